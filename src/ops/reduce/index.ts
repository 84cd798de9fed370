/** Reduction op family: importing this registers every op below. */
import './reduce.js';
import './argminmax.js';
import './softmax.js';
import './fused-softmax.js';
import './cumsum.js';
