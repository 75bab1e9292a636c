// msgpackr checks `if (extractor)` before using the native accelerator: null means "none".
module.exports = null;
