"""scikit-learn's HistGradientBoostingClassifier on the classifier bench's
exact rows, for comparison with tidewatch's domain classifier.

Export the rows first, then fit and score them here:
    TIDEWATCH_BENCH_EXPORT=/tmp/tw cargo bench -p tidewatch-core --bench classifier -- 100000
    python3 crates/core/benches/sklearn_domain.py /tmp/tw 100000

Same hyperparameters as tidewatch: 100 trees, 31 leaves, learning rate
0.1, at least 20 rows a leaf, no L2, no early stopping, 255 bins, the 5 last
features categorical. Needs numpy and scikit-learn (for this comparison
only; tidewatch never uses them).
"""
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

folder, rows = sys.argv[1], int(sys.argv[2])
features = 25


def load(name):
    data = np.fromfile(f"{folder}/{rows}_{name}.f64", dtype="<f8")
    n = data.size // (features + 1)
    x = data[: features * n].reshape(features, n).T
    y = data[features * n:].astype(int)
    return np.ascontiguousarray(x), y


x_train, y_train = load("train")
x_held, y_held = load("held_out")
model = HistGradientBoostingClassifier(
    max_iter=100, max_leaf_nodes=31, learning_rate=0.1, min_samples_leaf=20,
    l2_regularization=0.0, early_stopping=False, max_bins=255,
    categorical_features=list(range(20, 25)), random_state=0,
)
t = time.perf_counter()
model.fit(x_train, y_train)
fit_s = time.perf_counter() - t
t = time.perf_counter()
scores = model.decision_function(x_held)
score_s = time.perf_counter() - t
print(f"rows/side {rows}: sklearn fit {fit_s:.2f} s, score {score_s:.2f} s, "
      f"held-out AUC {roc_auc_score(y_held, scores):.4f}")
