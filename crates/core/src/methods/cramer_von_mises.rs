//! Two-sample Cramér-von Mises test, as `scipy.stats.cramervonmises_2samp`.

use std::collections::HashMap;

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::pooled::{PooledWalk, walk};
use crate::stats::special::{bessel_kv_scaled, ln_gamma};

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvmMethod {
    /// Exact when both samples have at most 20 values, else asymptotic.
    Auto,
    /// The exact permutation distribution (Xiao, Gordon and Yakovlev 2006).
    Exact,
    /// The limiting distribution of the normalised statistic (Anderson 1962).
    Asymptotic,
}

/// Result of the two-sample Cramér-von Mises test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CramerVonMises {
    /// The statistic `T` (Anderson 1962, eq. 9).
    pub statistic: f64,
    /// The p-value.
    pub pvalue: f64,
}

/// CDF of the limiting distribution of the one-sample Cramér-von Mises
/// statistic (Csörgő and Faraway 1996, eq. 1.3), summed until a term falls
/// below 1e-7, as SciPy does.
fn cdf_cvm_inf(x: f64) -> f64 {
    let mut total = 0.0;
    let mut k = 0u32;
    loop {
        let kf = k as f64;
        let u = (ln_gamma(kf + 0.5) - ln_gamma(kf + 1.0)).exp()
            / (std::f64::consts::PI.powf(1.5) * x.sqrt());
        let y = 4.0 * kf + 1.0;
        let q = y * y / (16.0 * x);
        // exp(-q) K_{1/4}(q) = exp(-2q) * (e^q K_{1/4}(q))
        let z = if q > 745.0 {
            0.0
        } else {
            u * y.sqrt() * (-2.0 * q).exp() * bessel_kv_scaled(0.25, q)
        };
        total += z;
        if z.abs() < 1e-7 {
            break;
        }
        k += 1;
    }
    total
}

fn lcm(a: u64, b: u64) -> u64 {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

/// Exact p-value: the share of the `C(m+n, m)` equally likely rank
/// arrangements whose statistic is at least the observed one, by the
/// lattice-path recursion of Xiao, Gordon and Yakovlev (2006), J. Stat.
/// Softw. 17(8), eq. 11.
fn pvalue_exact(u: f64, m: u64, n: u64) -> f64 {
    let l = lcm(m, n);
    let (a, b) = (l / m, l / n);
    let mn = (m * n) as f64;
    let zeta = ((l * l) as f64 * (m + n) as f64 * (6.0 * u - mn * (4.0 * mn - 1.0))
        / (6.0 * mn * mn))
        .floor();
    // gs[v]: map from the partial sum of (a v - b u)^2 to the number of paths.
    let mut gs: Vec<HashMap<u64, u128>> = vec![HashMap::new(); m as usize + 1];
    gs[0].insert(0, 1);
    for uu in 0..=n {
        let mut next: Vec<HashMap<u64, u128>> = Vec::with_capacity(m as usize + 1);
        let mut tmp: HashMap<u64, u128> = HashMap::new();
        for (v, g) in gs.iter().enumerate() {
            for (&val, &cnt) in g {
                *tmp.entry(val).or_default() += cnt;
            }
            let d = (a * v as u64) as i64 - (b * uu) as i64;
            let res = (d * d) as u64;
            tmp = tmp.into_iter().map(|(k, c)| (k + res, c)).collect();
            next.push(tmp.clone());
        }
        gs = next;
    }
    let mut total: u128 = 0;
    let mut hits: u128 = 0;
    for (&val, &cnt) in &gs[m as usize] {
        total += cnt;
        if val as f64 >= zeta {
            hits += cnt;
        }
    }
    hits as f64 / total as f64
}

/// Two-sample Cramér-von Mises test on sorted, finite samples, equal to
/// `scipy.stats.cramervonmises_2samp(x, y, method)`.
pub fn cramervonmises_2samp(x: &[f64], y: &[f64], method: CvmMethod) -> StatResult<CramerVonMises> {
    if x.len() < 2 || y.len() < 2 {
        return Err(too_few(x.len().min(y.len())));
    }
    cramervonmises_from_walk(&walk(x, y), method)
}

fn too_few(got: usize) -> StatError {
    StatError::TooFew {
        what: "the Cramér-von Mises test",
        needed: 2,
        got,
    }
}

/// The test from a pooled walk of the two sorted samples.
pub fn cramervonmises_from_walk(w: &PooledWalk, method: CvmMethod) -> StatResult<CramerVonMises> {
    let (nx, ny) = (w.n1, w.n2);
    if nx < 2 || ny < 2 {
        return Err(too_few(nx.min(ny)));
    }
    let exact = match method {
        CvmMethod::Auto => nx.max(ny) <= 20,
        CvmMethod::Exact => true,
        CvmMethod::Asymptotic => false,
    };
    let u = w.cvm_u;
    let (fx, fy) = (nx as f64, ny as f64);
    let k = fx * fy;
    let big_n = fx + fy;
    let t = u / (k * big_n) - (4.0 * k - 1.0) / (6.0 * big_n);
    let pvalue = if exact {
        pvalue_exact(u, nx as u64, ny as u64)
    } else {
        let et = (1.0 + 1.0 / big_n) / 6.0;
        let vt = (big_n + 1.0) * (4.0 * k * big_n - 3.0 * (fx * fx + fy * fy) - 2.0 * k)
            / (45.0 * big_n * big_n * 4.0 * k);
        let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
        if tn < 0.003 {
            1.0
        } else {
            (1.0 - cdf_cvm_inf(tn)).max(0.0)
        }
    };
    Ok(CramerVonMises {
        statistic: t,
        pvalue,
    })
}

/// The Cramér-von Mises test's p-value.
pub struct CramerVonMisesPvalue;

impl Method for CramerVonMisesPvalue {
    fn name(&self) -> &'static str {
        "cramer_von_mises_pvalue"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["cramer_von_mises", "cvm"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::PValue
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric]
    }
    fn range(&self) -> &'static str {
        "[0, 1]"
    }
    fn unit(&self) -> &'static str {
        "probability"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.05)
    }
    fn summary(&self) -> &'static str {
        "Two-sample Cramér-von Mises test: like KS but integrates the squared CDF gap, so it weighs the whole distribution."
    }
    fn details(&self) -> &'static str {
        "Statistic `T = U / (nx ny N) - (4 nx ny - 1) / (6 N)` from pooled average ranks \
         (Anderson 1962, Ann. Math. Statist. 33(3)). P-value exact when both samples have at \
         most 20 values (Xiao, Gordon and Yakovlev 2006), otherwise from the limiting \
         distribution of the normalised statistic (Csörgő and Faraway 1996), as \
         `scipy.stats.cramervonmises_2samp(baseline, target)`."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Numeric(n) => Ok(cramervonmises_from_walk(n.walk(), CvmMethod::Auto)?.pvalue),
            Input::Categorical(_) => Ok(f64::NAN),
        }
    }
}
