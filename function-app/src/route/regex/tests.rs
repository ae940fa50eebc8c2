use super::*;

fn matches(pattern: &str, text: &str) -> bool {
    Regex::parse(pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .is_match(text)
}

#[test]
fn patterns_route_constraints_use() {
    // ASP.NET Core's RoutePatternMatcherTest and constraint tests.
    assert!(matches(r"^\d{3}-\d{3}-\d{4}$", "123-456-7890"));
    assert!(!matches(r"^\d{3}-\d{3}-\d{4}$", "123-456-789"));
    assert!(matches(r"^\w+\@\w+\.\w+", "asd@assds.com"));
    assert!(matches(r"([}])\w+", "}sda"));
    assert!(matches(r"([{)])\w+", "})sda"));
    // Anywhere unless anchored, in any case.
    assert!(matches("abc", "xxABCxx"));
    assert!(!matches("^abc$", "xabc"));
    assert!(matches("^(en|fr)-[a-z]{2}$", "EN-us"));
    assert!(!matches("^(en|fr)-[a-z]{2}$", "de-us"));
    assert!(matches("^[^0-9]+$", "abc") && !matches("^[^0-9]+$", "a1"));
    assert!(matches(r"^\bword\b", "word here"));
    assert!(matches("^a{2,}$", "aaaa") && !matches("^a{2,}$", "a"));
    assert!(matches("^a{1,3}?b$", "aab") && !matches("^a{1,3}b$", "aaaab"));
    assert!(matches("^x{y}$", "x{y}") && matches("^x{3$", "x{3"));
    assert!(matches("^(?:ab)+$", "abab") && matches("^(?<p>ab)+$", "ab"));
    assert!(matches("^$", "") && matches("x$", "x\n") && !matches(r"x\z", "x\n"));
}

#[test]
fn a_long_value_against_a_nested_pattern_takes_linear_time() {
    let text = "a".repeat(20_000) + "!";
    let started = std::time::Instant::now();
    assert!(!matches("^(a+)+$", &text));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn what_is_not_matched_is_refused_by_name() {
    for (pattern, why) in [
        ("(?=a)", "group construct"),
        (r"\p{L}", "escape \\p"),
        ("(a", "without its \")\""),
        ("a)", "without its \"(\""),
        ("[a", "without its \"]\""),
        ("*a", "follows nothing"),
        ("[z-a]", "backwards"),
        ("a{3,1}", "below n"),
        ("(a{100}){200}", "too large"),
        ("a**", "follows a quantifier"),
    ] {
        let error = Regex::parse(pattern)
            .err()
            .unwrap_or_else(|| panic!("{pattern} should be refused"));
        assert!(error.contains(why), "{pattern}: {error}");
    }
}
