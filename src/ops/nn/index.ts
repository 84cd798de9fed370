/** Neural-network ops: importing this module registers them. */
import './matmul.js';
import './gemm.js';
import './conv.js';
import './conv-transpose.js';
import './pool.js';
import './global-pool.js';
import './batch-norm.js';
import './normalization.js';
import './lrn.js';
import './mvn.js';
import './matmul-integer.js';
import './int8-weights.js';
