//! One merge over two sorted samples that gathers everything the exact
//! two-sample methods need, so that a feature's data is walked once:
//!
//! * the integrals `∫ |U - V|` and `∫ (U - V)^2` behind the Wasserstein-1 and
//!   energy distances ([`super::cdf`]);
//! * the extreme CDF differences and where they first occur, behind the
//!   Kolmogorov-Smirnov statistic;
//! * the rank sum `U` of the Cramér-von Mises statistic (pooled average
//!   ranks, Anderson 1962 eq. 10);
//! * the per-sample sums of Scholz and Stephens' (1987) midrank `A2akN`.
//!
//! Each method finishes its statistic from these sums in its own file.

/// A CDF difference extreme and where it first occurs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extreme {
    /// `U(x) - V(x)` at the extreme.
    pub diff: f64,
    /// The smallest value of the first sample where it is reached (NaN if none).
    pub in_first: f64,
    /// The smallest value of the second sample where it is reached (NaN if none).
    pub in_second: f64,
}

impl Extreme {
    /// Where SciPy reports it: the first position in the concatenation of the
    /// sorted first and second samples.
    pub fn location(&self) -> f64 {
        if self.in_first.is_nan() {
            self.in_second
        } else {
            self.in_first
        }
    }
}

/// Tracks an extreme of `U - V` by the integer `i n2 - j n1`
/// (`n1 n2 (U - V)`), saving two divisions per value: differences that are
/// not equal are at least `1 / (n1 n2)` apart, far above rounding, so they
/// order the same as SciPy's floats. Equal ones may round differently in
/// SciPy's `i/n1 - j/n2`; only then are the floats computed and compared,
/// so that the extreme and its location are the ones SciPy reports.
struct Tracker {
    /// +1 to track the maximum, -1 the minimum.
    sign: i64,
    key: i64,
    diff: f64,
    in_first: f64,
    in_second: f64,
}

impl Tracker {
    fn new(sign: i64) -> Self {
        Tracker {
            sign,
            key: i64::MIN,
            diff: f64::NAN,
            in_first: f64::NAN,
            in_second: f64::NAN,
        }
    }

    #[inline]
    fn track(&mut self, key: i64, diff: impl Fn() -> f64, x: f64, in_first: bool) {
        let signed = self.sign * key;
        if signed < self.key {
            return;
        }
        let d = diff();
        let better = signed > self.key || (self.sign as f64) * (d - self.diff) > 0.0;
        if better {
            *self = Tracker {
                sign: self.sign,
                key: signed,
                diff: d,
                in_first: f64::NAN,
                in_second: f64::NAN,
            };
        } else if d != self.diff {
            return;
        }
        if in_first && self.in_first.is_nan() {
            self.in_first = x;
        } else if !in_first && self.in_second.is_nan() {
            self.in_second = x;
        }
    }

    fn finish(&self) -> Extreme {
        Extreme {
            diff: self.diff,
            in_first: self.in_first,
            in_second: self.in_second,
        }
    }
}

/// What one walk over two sorted samples found.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledWalk {
    /// Size of the first sample.
    pub n1: usize,
    /// Size of the second sample.
    pub n2: usize,
    /// `∫ |U(x) - V(x)| dx` (the Wasserstein-1 distance).
    pub l1: f64,
    /// `∫ (U(x) - V(x))^2 dx` (half the squared energy distance).
    pub l2_squared: f64,
    /// Largest `U - V`.
    pub max: Extreme,
    /// Smallest `U - V`.
    pub min: Extreme,
    /// `U = n1 sum (r_i - i)^2 + n2 sum (s_j - j)^2` with pooled average ranks.
    pub cvm_u: f64,
    /// Scholz-Stephens midrank sums of the first and second sample (before
    /// division by the sample size).
    pub ad_inner: (f64, f64),
    /// Distinct values in the pooled sample.
    pub distinct: usize,
    /// The smallest pooled value.
    pub smallest: f64,
}

/// Neumaier-compensated accumulator.
#[derive(Default)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    #[inline]
    fn add(&mut self, t: f64) {
        let s = self.s + t;
        if self.s.abs() >= t.abs() {
            self.c += (self.s - s) + t;
        } else {
            self.c += (t - s) + self.s;
        }
        self.s = s;
    }
    fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// Walks sorted, finite samples `a` and `b` once. Both must be non-empty.
pub fn walk(a: &[f64], b: &[f64]) -> PooledWalk {
    debug_assert!(!a.is_empty() && !b.is_empty());
    let (n1, n2) = (a.len(), b.len());
    let (f1, f2) = (n1 as f64, n2 as f64);
    let nf = f1 + f2;
    let (mut i, mut j) = (0usize, 0usize);
    let (mut l1, mut l2) = (Sum::default(), Sum::default());
    let (k1, k2) = (n1 as i64, n2 as i64);
    let mut max = Tracker::new(1);
    let mut min = Tracker::new(-1);
    let inv_n1n2 = 1.0 / (f1 * f2);
    let (mut ux, mut uy) = (0.0f64, 0.0f64);
    let (mut ad1, mut ad2) = (0.0f64, 0.0f64);
    let mut distinct = 0usize;
    let mut prev = 0.0f64;
    // n1 n2 (U - V) just after the previous distinct value.
    let mut prev_key = 0i64;
    let inv_nf = 1.0 / nf;
    while i < n1 || j < n2 {
        let x = if j >= n2 || (i < n1 && a[i] <= b[j]) {
            a[i]
        } else {
            b[j]
        };
        if distinct > 0 {
            // Over the gap (prev, x) the CDFs are those just after prev.
            let delta = x - prev;
            let d = prev_key.unsigned_abs() as f64 * inv_n1n2;
            l1.add(d * delta);
            l2.add(d * d * delta);
        }
        let (i0, j0) = (i, j);
        while i < n1 && a[i] == x {
            i += 1;
        }
        while j < n2 && b[j] == x {
            j += 1;
        }
        distinct += 1;
        prev = x;
        // KS: the CDF difference just after x.
        let key = i as i64 * k2 - j as i64 * k1;
        prev_key = key;
        let in_first = i > i0;
        let diff = || i as f64 / f1 - j as f64 / f2;
        max.track(key, diff, x, in_first);
        min.track(key, diff, x, in_first);
        // Cramér-von Mises: the tie group's average pooled rank.
        let ties = (i - i0 + j - j0) as f64;
        let rank = (i0 + j0) as f64 + (ties + 1.0) / 2.0;
        for k in i0..i {
            let d = rank - (k + 1) as f64;
            ux += d * d;
        }
        for k in j0..j {
            let d = rank - (k + 1) as f64;
            uy += d * d;
        }
        // Anderson-Darling, midrank form.
        let lj = ties;
        let bj = (i0 + j0) as f64 + lj / 2.0;
        let weight = lj * inv_nf / (bj * (nf - bj) - nf * lj / 4.0);
        let m1 = i as f64 - (i - i0) as f64 / 2.0;
        let m2 = j as f64 - (j - j0) as f64 / 2.0;
        let (d1, d2) = (nf * m1 - bj * f1, nf * m2 - bj * f2);
        ad1 += weight * d1 * d1;
        ad2 += weight * d2 * d2;
    }
    PooledWalk {
        n1,
        n2,
        l1: l1.value(),
        l2_squared: l2.value(),
        max: max.finish(),
        min: min.finish(),
        cvm_u: f1 * ux + f2 * uy,
        ad_inner: (ad1, ad2),
        distinct,
        smallest: a[0].min(b[0]),
    }
}
