/** Data movement and shape ops: importing this module registers them. */
import './reshape.js';
import './shape-of.js';
import './transpose.js';
import './concat-split.js';
import './slice.js';
import './gather.js';
import './scatter.js';
import './expand-tile.js';
import './pad.js';
import './generate.js';
import './trilu.js';
import './depth-space.js';
import './compress-nonzero.js';
import './reverse-sequence.js';
import './resize.js';
