/** Signal processing op family: importing this registers every op below. */
import './window.js';
import './mel-weight-matrix.js';
import './dft.js';
import './stft.js';
