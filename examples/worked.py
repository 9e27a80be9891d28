import numpy as np


def norm_wx(x, W):
    q = W @ x
    return np.sum(q ** 2)


def softmax_ce(s, y):
    e = np.exp(s - np.max(s))
    p = e / np.sum(e)
    return -np.log(p[y])


def sum_squares(q):
    return np.sum(q ** 2)
