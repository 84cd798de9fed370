/** Selection op family (TopK, NonMaxSuppression), plus Einsum, whose file lives with the nn ops it resembles. */
import './topk.js';
import './non-max-suppression.js';
import '../nn/einsum.js';
