/** Loss op family: importing this registers every op below. */
import './negative-log-likelihood.js';
import './softmax-cross-entropy.js';
