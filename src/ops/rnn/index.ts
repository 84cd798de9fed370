/** Recurrent ops: RNN, GRU, LSTM. */
import './rnn.js';
import './gru.js';
import './lstm.js';
