/** Every built-in op family registers itself on import. */
import './elementwise/index.js';
import './reduce/index.js';
import './shape/index.js';
import './nn/index.js';
import './fused.js';
import './loss/index.js';
import './select/index.js';
import './quant/index.js';
import './signal/index.js';
import './rnn/index.js';
import './linalg/index.js';
import './spatial/index.js';
