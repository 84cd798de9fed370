/** Every built-in op family registers itself on import. */
import './elementwise/index.js';
import './reduce/index.js';
import './shape/index.js';
import './nn/index.js';
