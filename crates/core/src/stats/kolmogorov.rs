//! Distributions of Kolmogorov-Smirnov statistics, as SciPy computes them.
//!
//! * [`kolmogorov_n_sf`]: survival function of the two-sided one-sample
//!   statistic `D_n` (`scipy.stats.kstwo.sf`), chosen among exact and
//!   approximate methods following Simard and L'Ecuyer (2011), "Computing the
//!   Two-Sided Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11):
//!   Ruben-Gambino closed forms at the ends, the Durbin matrix (Marsaglia,
//!   Tsang and Wang 2003), the Pomeranz (1974) recursion, the Pelz-Good (1976)
//!   asymptotic series, and Miller's approximation `2 * smirnov`.
//! * [`smirnov_sf`]: survival function of the one-sided statistic `D_n^+`
//!   by the Birnbaum-Tingey (1951) sum (`scipy.special.smirnov`).
//! * [`two_sample_exact`]: exact null distribution of the two-sample
//!   statistic by lattice-path counting (Hodges 1958), the two-sided case by
//!   Viehmann's (2021, arXiv:2102.08037) recursion for `1 - p`.

const E128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128
const MINLOG: f64 = -7.451_332_191_019_412e2; // log of the smallest subnormal

fn clip01(p: f64) -> f64 {
    if p.is_nan() { p } else { p.clamp(0.0, 1.0) }
}

/// `log(n! / n^n)` by Stirling's series with the `n log n` term removed.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    const STIRLING: [f64; 8] = [
        -2.955_065_359_477_124e-2,
        6.410_256_410_256_41e-3,
        -1.917_526_917_526_917_6e-3,
        8.417_508_417_508_417e-4,
        -5.952_380_952_380_953e-4,
        7.936_507_936_507_937e-4,
        -2.777_777_777_777_778e-3,
        8.333_333_333_333_333e-2,
    ];
    let rn = 1.0 / n;
    let z = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * z + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// CDF of `D_n` by the Durbin matrix algorithm, in the form of Marsaglia,
/// Tsang and Wang: the `k`-th diagonal element of `H^n` times `n!/n^n`.
fn kolmogorov_n_durbin(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] = (1.0 - h.powi(j as i32)) * fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let matmul = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; m * m];
        for i in 0..m {
            for l in 0..m {
                let a_il = a[i * m + l];
                if a_il == 0.0 {
                    continue;
                }
                for j in 0..m {
                    out[i * m + j] += a_il * b[l * m + j];
                }
            }
        }
        out
    };
    let mut power = vec![0.0; m * m];
    for i in 0..m {
        power[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i64 = 0;
    let mut h_expnt: i64 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            power = matmul(&power, &hm);
            expnt += h_expnt;
        }
        hm = matmul(&hm, &hm);
        h_expnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > E128 {
            for x in hm.iter_mut() {
                *x /= E128;
            }
            h_expnt += 128;
        }
        nn /= 2;
    }
    let mut p = power[(k - 1) * m + (k - 1)];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= E128;
            expnt -= 128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    clip01(p)
}

fn ldexp(x: f64, e: i64) -> f64 {
    // Apply in steps so that intermediate powers of two stay representable.
    let mut x = x;
    let mut e = e;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// CDF of `D_n` by the Pomeranz recursion.
fn kolmogorov_n_pomeranz(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![0.0; npwrs];
    let mut twogpower = vec![0.0; npwrs];
    let mut onem2gpower = vec![0.0; npwrs];
    gpower[0] = 1.0;
    twogpower[0] = 1.0;
    onem2gpower[0] = 1.0;
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        gpower[m] = gpower[m - 1] * g_n / mf;
        twogpower[m] = twogpower[m - 1] * two_g_n / mf;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / mf;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt: i64 = 0;
    let (mut j1, _) = pomeranz_j1j2(0, ni, ll, ceilf, roundf);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (nj1, j2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        let pwrs = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let ln2 = ln2 as usize;
            let start = (k1 - v0s) as usize;
            let a = &v0[start..(start + ln2).min(v0.len())];
            let b = &pwrs[..ln2.min(pwrs.len())];
            let conv_start = (j1 - k1) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            for (out, idx) in (conv_start..conv_start + conv_len).enumerate() {
                // Full convolution entry idx: sum_{p} a[p] b[idx - p].
                let mut s = 0.0;
                let lo = idx.saturating_sub(b.len().saturating_sub(1));
                let hi = idx.min(a.len().saturating_sub(1));
                if !a.is_empty() && lo <= hi {
                    for p in lo..=hi {
                        s += a[p] * b[idx - p];
                    }
                }
                v1[out] = s;
            }
            let max = v1.iter().copied().fold(0.0f64, f64::max);
            if max > 0.0 && max < EM128 {
                v1.iter_mut().for_each(|x| *x *= E128);
                expnt -= 128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1[(ni - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > E128 {
            ans *= EM128;
            expnt += 128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    clip01(ans)
}

/// CDF of `D_n` by the Pelz-Good asymptotic series (Li-Chien and Korolyuk's
/// expansion in `1/sqrt(n)`, transformed with Jacobi theta functions).
fn kolmogorov_n_pelz_good(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z * z * z, z.powi(4), z.powi(6));
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let sqrt2pi = (2.0 * PI).sqrt();
    let qlog = -pi2 / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * kk as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for i in 0..4 {
            k[i] = k[i] * qpower + coeffs[i];
        }
    }
    let div = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for i in 0..4 {
        k[i] = k[i] * q * sqrt2pi / div[i];
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let ks2 = kf * kf;
        let qp = q2.powf(ks2);
        k2extra += ks2 * qp;
        let kspi = PI * kf;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    k[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    for (i, ki) in k.iter_mut().enumerate() {
        *ki /= nf.powf(i as f64 / 2.0);
    }
    k.iter().sum()
}

/// Survival function of the two-sided one-sample Kolmogorov-Smirnov
/// statistic `D_n`: `P(D_n >= x)`, equal to `scipy.stats.kstwo.sf(x, n)`.
/// NaN when `n == 0`.
pub fn kolmogorov_n_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            // numpy.prod of arange(1, n+1) * (1/n) * (2t - 1), in order.
            let mut p = 1.0;
            for i in 1..=n {
                p *= i as f64 * (1.0 / nf) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip01(1.0 - prob);
    }
    if t >= nf - 1.0 {
        return clip01(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754693 {
            return clip01(1.0 - kolmogorov_n_durbin(n, x));
        }
        if nxsquared <= 4.0 {
            return clip01(1.0 - kolmogorov_n_pomeranz(n, x));
        }
        return clip01(2.0 * smirnov_sf(n, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let cdf = if nxsquared >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        kolmogorov_n_durbin(n, x)
    } else {
        kolmogorov_n_pelz_good(n, x)
    };
    clip01(1.0 - cdf)
}

/// Survival function of the one-sided Kolmogorov-Smirnov statistic `D_n^+`:
/// `P(D_n^+ >= x)` (`scipy.special.smirnov(n, x)`), by the Birnbaum-Tingey sum
/// `x * sum_{j=0}^{floor(n(1-x))} C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1)`
/// evaluated term by term in logarithms.
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    // n*x split exactly into floor and fraction.
    let hi = nf * x;
    let lo = nf.mul_add(x, -hi);
    let mut nxfl = hi.floor();
    let mut alpha = (hi - nxfl) + lo;
    if alpha >= 1.0 {
        nxfl += 1.0;
        alpha -= 1.0;
    } else if alpha < 0.0 {
        nxfl -= 1.0;
        alpha += 1.0;
    }
    if nxfl == 0.0 || (nxfl == 1.0 && alpha == 0.0) {
        let t = (1.0 + x).powf(nf - 1.0);
        return clip01(1.0 - x * t);
    }
    if -2.0 * nf * x * x < MINLOG {
        return 0.0;
    }
    if nxfl >= nf - 1.0 {
        return clip01((1.0 - x).powf(nf));
    }
    if n > 1_000_000 {
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return clip01(if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 + logp.exp_m1()
        });
    }
    let last = n - nxfl as u64 - 1;
    let mut sum = 0.0f64;
    let mut log_c = 0.0f64; // log C(n, j)
    for j in 0..=last {
        let jf = j as f64;
        // 1 - x - j/n = (n - j - nxfl - alpha) / n; x + j/n = (nxfl + alpha + j) / n
        let a = ((nf - jf - nxfl) - alpha) / nf;
        let b = ((nxfl + jf) + alpha) / nf;
        let log_term = log_c + (nf - jf) * a.ln() + (jf - 1.0) * b.ln();
        let term = log_term.exp();
        sum += term;
        if term != 0.0 {
            if 4.0 * (last - j) as f64 * term < f64::EPSILON * sum && j != last {
                break;
            }
        } else if j > n / 2 {
            break;
        }
        log_c += ((nf - jf) / (jf + 1.0)).ln();
    }
    clip01(x * sum)
}

/// Alternative hypothesis of a two-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// The two CDFs differ somewhere.
    TwoSided,
    /// The first sample's CDF lies below the second's somewhere.
    Less,
    /// The first sample's CDF lies above the second's somewhere.
    Greater,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `C(n, k)` as a float, rounded to an integer where representable.
fn binom(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    if k < 20 {
        let mut num = 1.0f64;
        let mut den = 1.0f64;
        for i in 1..=k {
            num *= (i + n - k) as f64;
            den *= i as f64;
            if num.abs() > 1e50 {
                num /= den;
                den = 1.0;
            }
        }
        return (num / den).round();
    }
    let lg = super::special::ln_gamma;
    (lg(n as f64 + 1.0) - lg(k as f64 + 1.0) - lg((n - k) as f64 + 1.0))
        .exp()
        .round()
}

/// `P(D_{n,n} >= h/n)` for two samples of equal size, by the alternating
/// reflection series summed in Horner form.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0;
    let mut k = (n / h) as i64;
    while k >= 0 {
        let mut p1 = 1.0;
        let kh = k as u64 * h;
        for j in 0..h {
            p1 = (n as f64 - kh as f64 - j as f64) * p1 / (n as f64 + kh as f64 + j as f64 + 1.0);
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// Proportion of lattice paths from (0,0) to (m,n) leaving the band
/// `|x/m - y/n| < h/lcm(m,n)`, computed directly as `1 - inside`.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let mg = m / g;
    let ng = n / g;
    let (m, n, mg, ng, h) = (m as i64, n as i64, mg as i64, ng as i64, h as i64);
    let div_ceil = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).ceil() as i64 };
    let div_floor = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).floor() as i64 };
    let mut minj = 0i64;
    let mut maxj = div_ceil(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for x in a.iter_mut().take(maxj as usize) {
        *x = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (div_floor(ng * i - h, mg) + 1).max(0).min(n);
        maxj = div_ceil(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let fi = i as f64;
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            val = (a[(jj + minj - lastminj) as usize] * fi + val * j as f64) / (fi + j as f64);
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            for x in a.iter_mut().skip(start).take((lastlen - curlen) as usize) {
                *x = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

/// Number of lattice paths from (0,0) to (m,n) that reach the line
/// `m y <= n x - h g` (one-sided exceedance), or `None` on overflow.
fn count_paths_outside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let mg = m / g;
    let ng = n / g;
    let lxj = n as i64 + (mg as i64 - h as i64).div_euclid(mg as i64);
    if lxj <= 0 {
        return Some(binom(m + n, n));
    }
    let lxj = lxj as usize;
    let xj: Vec<u64> = (0..lxj as u64).map(|j| (h + mg * j).div_ceil(ng)).collect();
    let mut b = vec![0.0f64; lxj];
    b[0] = 1.0;
    for j in 1..lxj {
        let mut bj = binom(xj[j] + j as u64, j as u64);
        if !bj.is_finite() {
            return None;
        }
        for i in 0..j {
            let bin = binom(xj[j] - xj[i] + (j - i) as u64, (j - i) as u64);
            bj -= bin * b[i];
        }
        if !bj.is_finite() {
            return None;
        }
        b[j] = bj;
    }
    let mut num_paths = 0.0;
    for (j, bj) in b.iter().enumerate() {
        let bin = binom((m - xj[j]) + (n - j as u64), n - j as u64);
        let term = bj * bin;
        if !term.is_finite() {
            return None;
        }
        num_paths += term;
    }
    Some(num_paths.round())
}

/// Exact p-value of the two-sample statistic `d` for sample sizes `n1`,
/// `n2`. Returns the statistic snapped to the lattice (`h / lcm`) and the
/// p-value, or `None` when the computation overflows (SciPy then falls back
/// to the asymptotic distribution).
pub fn two_sample_exact(n1: u64, n2: u64, d: f64, alternative: Alternative) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round_ties_even() as u64;
    let d = h as f64 * 1.0 / lcm;
    if h == 0 {
        return Some((d, 1.0));
    }
    let prob = match alternative {
        Alternative::TwoSided => {
            if n1 == n2 {
                prob_outside_square(n1, h)
            } else {
                outer_prob_inside(n1, n2, g, h)
            }
        }
        Alternative::Less | Alternative::Greater => {
            if n1 == n2 {
                let mut p = 1.0;
                for j in 0..h {
                    p *= (n1 as f64 - j as f64) / (n1 as f64 + j as f64 + 1.0);
                }
                p
            } else {
                let paths = count_paths_outside(n1, n2, g, h)?;
                let total = binom(n1 + n2, n1);
                if !total.is_finite() || paths > total {
                    return None;
                }
                paths / total
            }
        }
    };
    if !prob.is_finite() || !(0.0..=1.0).contains(&prob) {
        return None;
    }
    Some((d, prob))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smirnov_closed_forms() {
        // n = 1: P(D+ >= x) = 1 - x
        assert_eq!(smirnov_sf(1, 0.25), 0.75);
        // x >= 1 - 1/n: (1 - x)^n
        assert!((smirnov_sf(4, 0.8) - 0.2f64.powi(4)).abs() < 1e-16);
    }

    #[test]
    fn kolmogorov_is_monotone_and_bounded() {
        let mut last = 1.0;
        for i in 1..100 {
            let x = i as f64 / 100.0;
            let p = kolmogorov_n_sf(37, x);
            assert!((0.0..=1.0).contains(&p));
            assert!(p <= last + 1e-12, "x={x}: {p} > {last}");
            last = p;
        }
    }
}
