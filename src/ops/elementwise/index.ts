/** Elementwise op family: importing this registers every op below. */
import './arithmetic.js';
import './bitwise.js';
import './logical.js';
import './unary.js';
import './cast.js';
import './activation.js';
import './float-activation.js';
