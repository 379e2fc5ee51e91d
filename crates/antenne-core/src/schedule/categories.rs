//! Apple Podcasts categories, spelled exactly as Apple lists them (case-sensitive), and the
//! validator the schedule file's checks call. Here rather than in `feed` because the schedule
//! is where a show's category is declared and checked; the feed only writes it.

/// Every Apple category with its subcategories (Apple Podcasts Connect, category list).
pub const APPLE_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "Arts",
        &[
            "Books",
            "Design",
            "Fashion & Beauty",
            "Food",
            "Performing Arts",
            "Visual Arts",
        ],
    ),
    (
        "Business",
        &[
            "Careers",
            "Entrepreneurship",
            "Investing",
            "Management",
            "Marketing",
            "Non-Profit",
        ],
    ),
    ("Comedy", &["Comedy Interviews", "Improv", "Stand-Up"]),
    (
        "Education",
        &["Courses", "How To", "Language Learning", "Self-Improvement"],
    ),
    ("Fiction", &["Comedy Fiction", "Drama", "Science Fiction"]),
    ("Government", &[]),
    ("History", &[]),
    (
        "Health & Fitness",
        &[
            "Alternative Health",
            "Fitness",
            "Medicine",
            "Mental Health",
            "Nutrition",
            "Sexuality",
        ],
    ),
    (
        "Kids & Family",
        &[
            "Education for Kids",
            "Parenting",
            "Pets & Animals",
            "Stories for Kids",
        ],
    ),
    (
        "Leisure",
        &[
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        ],
    ),
    (
        "Music",
        &["Music Commentary", "Music History", "Music Interviews"],
    ),
    (
        "News",
        &[
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ],
    ),
    (
        "Religion & Spirituality",
        &[
            "Buddhism",
            "Christianity",
            "Hinduism",
            "Islam",
            "Judaism",
            "Religion",
            "Spirituality",
        ],
    ),
    (
        "Science",
        &[
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ],
    ),
    (
        "Society & Culture",
        &[
            "Documentary",
            "Personal Journals",
            "Philosophy",
            "Places & Travel",
            "Relationships",
        ],
    ),
    (
        "Sports",
        &[
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ],
    ),
    ("Technology", &[]),
    ("True Crime", &[]),
    (
        "TV & Film",
        &[
            "After Shows",
            "Film History",
            "Film Interviews",
            "Film Reviews",
            "TV Reviews",
        ],
    ),
];

/// Checks `category` (and `sub`, when given) against Apple's list, spelling included.
///
/// The error is a sentence for the schedule file's diagnostics, with a did-you-mean hint
/// when a listed name is close (case, accents of `&`, a typo).
pub fn validate_category(category: &str, sub: Option<&str>) -> Result<(), String> {
    let Some((name, subs)) = APPLE_CATEGORIES.iter().find(|(name, _)| *name == category) else {
        let hint = did_you_mean(category, APPLE_CATEGORIES.iter().map(|(name, _)| *name));
        return Err(format!(
            "unknown Apple Podcasts category `{category}`{hint}"
        ));
    };
    let Some(sub) = sub else { return Ok(()) };
    if subs.contains(&sub) {
        return Ok(());
    }
    if subs.is_empty() {
        return Err(format!(
            "Apple Podcasts category `{name}` has no subcategories (got `{sub}`)"
        ));
    }
    let hint = did_you_mean(sub, subs.iter().copied());
    Err(format!(
        "unknown subcategory `{sub}` of Apple Podcasts category `{name}`{hint}"
    ))
}

/// `"; did you mean `X`?"` for the closest candidate, or `""` when none is close.
fn did_you_mean<'a>(wrong: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let key = normalise(wrong);
    let best = candidates
        .map(|c| (distance(&key, &normalise(c)), c))
        .min_by_key(|&(d, _)| d)
        .filter(|&(d, c)| d <= 3.max(c.chars().count() / 3));
    match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// Lowercase, `and`/`et` read as `&`, hyphens as spaces: the mistakes people make typing
/// these names.
fn normalise(s: &str) -> Vec<char> {
    let lower = s.trim().to_lowercase().replace('-', " ");
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| if w == "and" || w == "et" { "&" } else { w })
        .collect();
    words.join(" ").chars().collect()
}

/// Levenshtein distance over chars.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(category: &str, sub: Option<&str>, expected: Result<(), &str>) {
        assert_eq!(
            validate_category(category, sub),
            expected.map_err(str::to_owned),
            "{category} / {sub:?}"
        );
    }

    #[test]
    fn validation() {
        check("Society & Culture", Some("Places & Travel"), Ok(()));
        check("Music", None, Ok(()));
        check("Technology", None, Ok(()));
        check(
            "Society and Culture",
            None,
            Err(
                "unknown Apple Podcasts category `Society and Culture`; did you mean `Society & Culture`?",
            ),
        );
        check(
            "music",
            None,
            Err("unknown Apple Podcasts category `music`; did you mean `Music`?"),
        );
        check(
            "Radio libre",
            None,
            Err("unknown Apple Podcasts category `Radio libre`"),
        );
        check(
            "News",
            Some("Politic"),
            Err(
                "unknown subcategory `Politic` of Apple Podcasts category `News`; did you mean `Politics`?",
            ),
        );
        check(
            "History",
            Some("Local"),
            Err("Apple Podcasts category `History` has no subcategories (got `Local`)"),
        );
        check(
            "Comedy",
            Some("Stand Up"),
            Err(
                "unknown subcategory `Stand Up` of Apple Podcasts category `Comedy`; did you mean `Stand-Up`?",
            ),
        );
    }

    #[test]
    fn list_is_unique_and_trimmed() {
        let mut names: Vec<&str> = APPLE_CATEGORIES.iter().map(|(n, _)| *n).collect();
        let total = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), total);
        assert_eq!(total, 19);
        assert_eq!(
            APPLE_CATEGORIES.iter().map(|(_, s)| s.len()).sum::<usize>(),
            91
        );
    }
}
