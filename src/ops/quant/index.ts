/** Quantization ops: linear (de)quantization and quantized MatMul / Conv. */
import './quantize-linear.js';
import './dynamic-quantize-linear.js';
import './qlinear-matmul.js';
import './conv-integer.js';
