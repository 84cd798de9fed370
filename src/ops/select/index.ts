/** Selection op family (TopK, NonMaxSuppression, Unique), plus Einsum, whose file lives with the nn ops it resembles. */
import './topk.js';
import './non-max-suppression.js';
import './unique.js';
import '../nn/einsum.js';
