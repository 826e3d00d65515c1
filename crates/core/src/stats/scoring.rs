//! Classifier scores used by the drift coefficient: Matthews correlation and
//! ROC AUC, equal to scikit-learn's `matthews_corrcoef` and `roc_auc_score`.

use std::collections::BTreeMap;

/// Matthews correlation coefficient of predicted against true labels
/// (any number of classes, Gorodkin's R_K): range `[-1, 1]`, 0 when either
/// side has a single label (scikit-learn returns 0 there too).
pub fn matthews_corrcoef(y_true: &[i64], y_pred: &[i64]) -> f64 {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "labels and predictions differ in length"
    );
    let mut t_sum: BTreeMap<i64, f64> = BTreeMap::new();
    let mut p_sum: BTreeMap<i64, f64> = BTreeMap::new();
    let mut correct = 0.0;
    for (&t, &p) in y_true.iter().zip(y_pred) {
        *t_sum.entry(t).or_default() += 1.0;
        *p_sum.entry(p).or_default() += 1.0;
        if t == p {
            correct += 1.0;
        }
    }
    let n = y_true.len() as f64;
    let dot_tp: f64 = t_sum
        .iter()
        .map(|(k, t)| t * p_sum.get(k).copied().unwrap_or(0.0))
        .sum();
    let dot_pp: f64 = p_sum.values().map(|p| p * p).sum();
    let dot_tt: f64 = t_sum.values().map(|t| t * t).sum();
    let cov_ytyp = correct * n - dot_tp;
    let cov_ypyp = n * n - dot_pp;
    let cov_ytyt = n * n - dot_tt;
    if cov_ypyp * cov_ytyt == 0.0 {
        return 0.0;
    }
    cov_ytyp / (cov_ytyt * cov_ypyp).sqrt()
}

/// Area under the ROC curve of scores for binary labels (`true` = positive),
/// with optional sample weights; tied scores count one half. NaN when only
/// one class is present. Range `[0, 1]`; 0.5 is chance.
pub fn roc_auc(y_true: &[bool], scores: &[f64], weights: Option<&[f64]>) -> f64 {
    assert_eq!(
        y_true.len(),
        scores.len(),
        "labels and scores differ in length"
    );
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    // Cumulative true and false positives at each distinct threshold.
    let (mut tps, mut fps) = (vec![0.0], vec![0.0]);
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if y_true[i] {
            tp += w(i);
        } else {
            fp += w(i);
        }
        let last_of_tie = k + 1 == order.len() || scores[order[k + 1]] != scores[i];
        if last_of_tie {
            tps.push(tp);
            fps.push(fp);
        }
    }
    if tp == 0.0 || fp == 0.0 {
        return f64::NAN;
    }
    let mut area = 0.0;
    for k in 1..tps.len() {
        let (x0, x1) = (fps[k - 1] / fp, fps[k] / fp);
        let (y0, y1) = (tps[k - 1] / tp, tps[k] / tp);
        area += (x1 - x0) * (y0 + y1) / 2.0;
    }
    area
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverse() {
        assert_eq!(matthews_corrcoef(&[0, 1, 0, 1], &[0, 1, 0, 1]), 1.0);
        assert_eq!(matthews_corrcoef(&[0, 1, 0, 1], &[1, 0, 1, 0]), -1.0);
        assert_eq!(roc_auc(&[false, true], &[0.1, 0.9], None), 1.0);
        assert_eq!(roc_auc(&[false, true, false, true], &[0.5; 4], None), 0.5);
    }
}
