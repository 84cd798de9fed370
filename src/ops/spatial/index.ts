/** Spatial resampling ops (sampling grids, ROI pooling, unpooling) register themselves on import. */
import './grid-sample.js';
import './roi-align.js';
import './max-unpool.js';
