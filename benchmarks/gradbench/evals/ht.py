"""ht: hand tracking (ADBench). Not written yet: evaluate answers "success": false."""


def prepare(function, inp):
    raise NotImplementedError("adc's GradBench tool has no implementation of ht yet (not written, not an adc error)")
