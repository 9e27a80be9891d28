"""One module per GradBench eval. Each defines the eval's maths as plain NumPy/Python, its derivatives
with adc only, and `prepare(function, input) -> (call, encode)`: `call()` computes the answer from
inputs already converted to NumPy, `encode(result)` turns it into the eval's JSON output."""
