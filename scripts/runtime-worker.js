// The worker_threads half of scripts/runtime-checks.js: loads the package in
// a Worker and sends back one forward's output.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Tensor, Conv2d } = require(workerData.root);

const conv = new Conv2d(24, 20, 3, { padding: 1, paddingMode: 'reflect' });
conv.loadStateDict({ weight: new Tensor(workerData.w, [20, 24, 3, 3]), bias: new Tensor(workerData.b, [20]) });
parentPort.postMessage(conv.forward(new Tensor(workerData.x, [2, 24, 21, 25])).data);
