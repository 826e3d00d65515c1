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

/// A sum of many small non-negative terms: plain addition within blocks of
/// 256 terms (relative error at most about 256 ulp), Neumaier-compensated
/// addition of the block sums.
#[derive(Default)]
struct Sum {
    block: f64,
    terms: u32,
    s: f64,
    c: f64,
}

impl Sum {
    #[inline(always)]
    fn add(&mut self, t: f64) {
        self.block += t;
        self.terms += 1;
        if self.terms == 256 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let t = self.block;
        let s = self.s + t;
        if self.s.abs() >= t.abs() {
            self.c += (self.s - s) + t;
        } else {
            self.c += (t - s) + self.s;
        }
        self.s = s;
        self.block = 0.0;
        self.terms = 0;
    }

    fn value(mut self) -> f64 {
        self.flush();
        self.s + self.c
    }
}

/// The running sums of a walk.
struct State {
    n1: i64,
    n2: i64,
    f1: f64,
    f2: f64,
    nf: f64,
    inv_nf: f64,
    inv_n1n2: f64,
    l1: Sum,
    l2: Sum,
    max: Tracker,
    min: Tracker,
    ux: f64,
    uy: f64,
    ad1: f64,
    ad2: f64,
    distinct: usize,
    prev: f64,
    /// n1 n2 (U - V) just after the previous distinct value.
    key: i64,
}

impl State {
    /// The CDF gap between the previous distinct value and `x`.
    #[inline(always)]
    fn gap(&mut self, x: f64) {
        if self.distinct > 0 {
            // Over (prev, x) the CDFs are those just after prev.
            let delta = x - self.prev;
            let d = self.key.unsigned_abs() as f64 * self.inv_n1n2;
            self.l1.add(d * delta);
            self.l2.add(d * d * delta);
        }
        self.distinct += 1;
        self.prev = x;
    }

    /// KS extremes after the group ending at first-sample count `i` and
    /// second-sample count `j`; integer comparisons first, so the trackers
    /// are entered only near an extreme.
    #[inline(always)]
    fn extremes(&mut self, x: f64, i: usize, j: usize, in_first: bool) {
        let (f1, f2) = (self.f1, self.f2);
        let diff = || i as i64 as f64 / f1 - j as i64 as f64 / f2;
        if self.key >= self.max.key {
            self.max.track(self.key, diff, x, in_first);
        }
        if -self.key >= self.min.key {
            self.min.track(self.key, diff, x, in_first);
        }
    }

    /// Anderson-Darling terms for a group of `ties` values with `below`
    /// pooled values under it and midrank counts `m1`, `m2`.
    #[inline(always)]
    fn anderson(&mut self, below: f64, ties: f64, m1: f64, m2: f64) {
        let nf = self.nf;
        let bj = below + ties / 2.0;
        let weight = ties * self.inv_nf / (bj * (nf - bj) - nf * ties / 4.0);
        let (d1, d2) = (nf * m1 - bj * self.f1, nf * m2 - bj * self.f2);
        self.ad1 += weight * d1 * d1;
        self.ad2 += weight * d2 * d2;
    }

    /// A value `x` present once, at position `i0` of the first sample
    /// (`from_first`) or `j0` of the second, with no equal value anywhere:
    /// the common case of continuous data, with the group formulas
    /// simplified (same floating-point operations on the same values).
    #[inline(always)]
    fn single(&mut self, x: f64, i0: usize, j0: usize, from_first: bool) {
        self.gap(x);
        let (fi0, fj0) = (i0 as i64 as f64, j0 as i64 as f64);
        if from_first {
            self.key += self.n2;
            self.extremes(x, i0 + 1, j0, true);
            // Cramér-von Mises: rank i0 + j0 + 1 against position i0 + 1.
            self.ux += fj0 * fj0;
            self.anderson(fi0 + fj0, 1.0, fi0 + 0.5, fj0);
        } else {
            self.key -= self.n1;
            self.extremes(x, i0, j0 + 1, false);
            self.uy += fi0 * fi0;
            self.anderson(fi0 + fj0, 1.0, fi0, fj0 + 0.5);
        }
    }

    /// The group of pooled values equal to `x`: the first sample's `i0..i`
    /// and the second's `j0..j`.
    fn group(&mut self, x: f64, (i0, i): (usize, usize), (j0, j): (usize, usize)) {
        self.gap(x);
        let (fi0, fj0) = (i0 as i64 as f64, j0 as i64 as f64);
        let (fi, fj) = (i as i64 as f64, j as i64 as f64);
        self.key = i as i64 * self.n2 - j as i64 * self.n1;
        self.extremes(x, i, j, i > i0);
        // Cramér-von Mises: the tie group's average pooled rank.
        let (c1, c2) = (fi - fi0, fj - fj0);
        let ties = c1 + c2;
        let below = fi0 + fj0;
        let rank = below + (ties + 1.0) / 2.0;
        let mut k = fi0 + 1.0;
        while k <= fi {
            let d = rank - k;
            self.ux += d * d;
            k += 1.0;
        }
        let mut k = fj0 + 1.0;
        while k <= fj {
            let d = rank - k;
            self.uy += d * d;
            k += 1.0;
        }
        self.anderson(below, ties, fi - c1 / 2.0, fj - c2 / 2.0);
    }
}

/// Walks sorted, finite samples `a` and `b` once. Both must be non-empty.
pub fn walk(a: &[f64], b: &[f64]) -> PooledWalk {
    debug_assert!(!a.is_empty() && !b.is_empty());
    let (n1, n2) = (a.len(), b.len());
    let (f1, f2) = (n1 as f64, n2 as f64);
    let nf = f1 + f2;
    let mut st = State {
        n1: n1 as i64,
        n2: n2 as i64,
        f1,
        f2,
        nf,
        inv_nf: 1.0 / nf,
        inv_n1n2: 1.0 / (f1 * f2),
        l1: Sum::default(),
        l2: Sum::default(),
        max: Tracker::new(1),
        min: Tracker::new(-1),
        ux: 0.0,
        uy: 0.0,
        ad1: 0.0,
        ad2: 0.0,
        distinct: 0,
        prev: 0.0,
        key: 0,
    };
    let (mut i, mut j) = (0usize, 0usize);
    while i < n1 && j < n2 {
        let (ai, bj) = (a[i], b[j]);
        let from_first = ai <= bj;
        let x = if from_first { ai } else { bj };
        let (i0, j0) = (i, j);
        // Values equal to x beyond the one taken (rare for continuous data).
        let tied = ai == bj
            || (from_first && i + 1 < n1 && a[i + 1] == x)
            || (!from_first && j + 1 < n2 && b[j + 1] == x);
        if !tied {
            st.single(x, i0, j0, from_first);
            i += usize::from(from_first);
            j += usize::from(!from_first);
            continue;
        }
        while i < n1 && a[i] == x {
            i += 1;
        }
        while j < n2 && b[j] == x {
            j += 1;
        }
        st.group(x, (i0, i), (j0, j));
    }
    // One sample is exhausted: the rest of the other, group by group.
    while i < n1 {
        let (x, i0) = (a[i], i);
        while i < n1 && a[i] == x {
            i += 1;
        }
        st.group(x, (i0, i), (j, j));
    }
    while j < n2 {
        let (x, j0) = (b[j], j);
        while j < n2 && b[j] == x {
            j += 1;
        }
        st.group(x, (i, i), (j0, j));
    }
    PooledWalk {
        n1,
        n2,
        l1: st.l1.value(),
        l2_squared: st.l2.value(),
        max: st.max.finish(),
        min: st.min.finish(),
        cvm_u: f1 * st.ux + f2 * st.uy,
        ad_inner: (st.ad1, st.ad2),
        distinct: st.distinct,
        smallest: a[0].min(b[0]),
    }
}
