/** Selection op family (TopK), plus Einsum, whose file lives with the nn ops it resembles. */
import './topk.js';
import '../nn/einsum.js';
