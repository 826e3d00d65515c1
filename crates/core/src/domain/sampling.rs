//! Seeded, stratified sampling and splitting of labelled rows.
//!
//! Every random step takes a seed, so the same rows and seed give the same
//! sample and split on any machine: [`Rng`] is SplitMix64 (Steele, Lea and
//! Flood 2014), whose output is a fixed function of the seed, and shuffles
//! are Fisher-Yates (Durstenfeld's in-place form) drawing unbiased integers
//! by Lemire's (2019) multiply-and-reject method.

/// A small, fast, seedable pseudo-random generator (SplitMix64). Not for
/// cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), without modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "empty range");
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            let low = m as u64;
            if low >= bound.wrapping_neg() % bound {
                return (m >> 64) as u64;
            }
        }
    }

    /// A uniform draw in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller transform, cosine branch).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Row indices of one side kept by the sampling, ascending: all `rows` when
/// they fit the `budget`, else a uniform random subset of `budget` rows.
pub fn sample_rows(rows: usize, budget: usize, rng: &mut Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows).collect();
    if rows > budget {
        // A partial Fisher-Yates draws the first `budget` positions.
        for i in 0..budget {
            let j = i + rng.below((rows - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(budget);
        idx.sort_unstable();
    }
    idx
}

/// A split of labelled rows into a training and a held-out part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Positions (into the labels) used for fitting, ascending.
    pub train: Vec<usize>,
    /// Positions used for scoring, ascending.
    pub held_out: Vec<usize>,
}

/// Splits rows with boolean labels into two halves with the same share of
/// each label, as scikit-learn's `train_test_split(..., test_size=0.5,
/// stratify=labels)` does in distribution: each label's rows are shuffled
/// and the first `floor(n / 2)` of them are held out (an odd row goes to
/// training).
pub fn stratified_halves(labels: &[bool], rng: &mut Rng) -> Split {
    let mut train = Vec::with_capacity(labels.len() / 2 + 1);
    let mut held_out = Vec::with_capacity(labels.len() / 2 + 1);
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut rows);
        let half = rows.len() / 2;
        held_out.extend_from_slice(&rows[..half]);
        train.extend_from_slice(&rows[half..]);
    }
    train.sort_unstable();
    held_out.sort_unstable();
    Split { train, held_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, {
            let mut r = Rng::new(43);
            (0..5).map(|_| r.next_u64()).collect::<Vec<_>>()
        });
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = Rng::new(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn sampling_keeps_all_rows_within_budget_and_draws_without_replacement() {
        let mut r = Rng::new(1);
        assert_eq!(sample_rows(5, 10, &mut r), vec![0, 1, 2, 3, 4]);
        let s = sample_rows(1000, 100, &mut r);
        assert_eq!(s.len(), 100);
        assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        assert!(s.iter().all(|&i| i < 1000));
    }

    #[test]
    fn halves_are_stratified_disjoint_and_complete() {
        let labels: Vec<bool> = (0..1001).map(|i| i % 3 == 0).collect();
        let split = stratified_halves(&labels, &mut Rng::new(9));
        let positives = |rows: &[usize]| rows.iter().filter(|&&i| labels[i]).count();
        assert_eq!(positives(&split.held_out), 334 / 2);
        assert_eq!(split.held_out.len() + split.train.len(), 1001);
        let mut all: Vec<usize> = split.train.iter().chain(&split.held_out).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1001).collect::<Vec<_>>());
        assert_eq!(
            split,
            stratified_halves(&labels, &mut Rng::new(9)),
            "seeded"
        );
        assert_ne!(split, stratified_halves(&labels, &mut Rng::new(10)));
    }
}
