/** Linear-algebra ops register themselves on import. */
import './det.js';
