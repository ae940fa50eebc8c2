use super::*;

fn matches(pattern: &str, text: &str) -> bool {
    Regex::parse(pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .is_match(text)
}

#[test]
fn patterns_route_constraints_use() {
    // ASP.NET Core's RoutePatternMatcherTest and RegexRouteConstraintTests.
    assert!(matches(r"^\d{3}-\d{3}-\d{4}$", "123-456-7890"));
    assert!(!matches(r"^\d{3}-\d{3}-\d{4}$", "123-456-789"));
    assert!(matches(r"^\w+\@\w+\.\w+", "asd@assds.com"));
    assert!(matches(r"([}])\w+", "}sda"));
    assert!(matches(r"([{)])\w+", "})sda"));
    // Anywhere unless anchored, in any case.
    assert!(matches("abc", "xxABCxx") && matches("abc", "Abc ") && matches("abc", "Abcd"));
    assert!(!matches(" abc", "Abc"));
    assert!(!matches("^abc$", "xabc"));
    assert!(matches("^(en|fr)-[a-z]{2}$", "EN-us"));
    assert!(!matches("^(en|fr)-[a-z]{2}$", "de-us"));
    assert!(matches("^[^0-9]+$", "abc") && !matches("^[^0-9]+$", "a1"));
    assert!(matches(r"^\bword\b", "word here") && !matches(r"^wor\b", "word"));
    assert!(matches("^a{2,}$", "aaaa") && !matches("^a{2,}$", "a"));
    assert!(matches("^a{1,3}?b$", "aab") && !matches("^a{1,3}b$", "aaaab"));
    assert!(matches("^(?:ab)+$", "abab") && matches("^(?<p>ab)+$", "ab"));
    assert!(matches("^(?'p'ab)(?#note)$", "ab") && matches(r"^\x41\u00e9$", "aÉ"));
    assert!(matches("^é$", "É") && matches(r"^\d+$", "٣٤"));
}

#[test]
fn what_dotnet_reads_as_literals_is_matched_as_literals() {
    // `{` without a count, and what the regex crate would read as its own
    // syntax: nested classes, class operators, `\<`, `#`.
    assert!(matches("^x{y}$", "x{y}") && matches("^x{3$", "x{3"));
    assert!(matches("^x{,3}$", "x{,3}") && matches("^x{ 2 }$", "x{ 2 }"));
    assert!(matches("^[[a]+$", "[a[") && !matches("^[[a]$", "]"));
    assert!(matches("^[a&&b]+$", "a&b") && matches("^[--/~~]+$", "-./~"));
    assert!(matches("^[]a]+$", "]a") && matches("^[a-]+$", "-a"));
    assert!(matches(r"^\<#~\>$", "<#~>") && matches(r"^[\b]$", "\u{8}"));
}

#[test]
fn dollar_holds_at_the_end_and_before_a_final_newline_as_in_dotnet() {
    assert!(matches("^$", "") && matches("x$", "x\n") && matches(r"x\Z", "x\n"));
    assert!(matches("^x$\n$", "x\n") && matches(r"(x$)", "x"));
    assert!(!matches(r"x\z", "x\n") && !matches("x$", "x\ny"));
    assert!(!matches("x$", "x\n\n"));
    // With newlines before the final one: only that one is "before the end".
    assert!(matches("^a\nb$", "a\nb\n") && !matches("a$", "a\nb\n"));
    // The final newline is still a newline to what takes one, and only to it.
    assert!(matches(r"x\s$", "x\n") && matches("x[^a]$", "x\n") && matches(r"x\n\z", "x\n"));
    assert!(matches(r"x\W\D\S$", "x\n\n\n") && matches("x[\t-\r]$", "x\n"));
    assert!(!matches("x.$", "x\n") && !matches(r"x\w$", "x\n") && !matches("x[^\n]$", "x\n"));
    assert!(matches(r"x\b$", "x\n") && matches("^é$", "É\n"));
}

#[test]
fn a_long_value_against_a_nested_pattern_takes_linear_time() {
    let text = "a".repeat(100_000) + "!";
    let started = std::time::Instant::now();
    assert!(!matches("^(a+)+$", &text));
    assert!(!matches("^(a|aa)*$", &text));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_pattern_past_the_size_limit_is_refused_and_one_at_it_matches() {
    // The largest `a{n}` that compiles within MAX_COMPILED_BYTES.
    let compiles = |n: usize| Regex::parse(&format!("^a{{{n}}}$")).is_ok();
    let (mut fits, mut too_big) = (1, 1_000_000);
    assert!(compiles(fits) && !compiles(too_big));
    while too_big - fits > 1 {
        let middle = (fits + too_big) / 2;
        if compiles(middle) {
            fits = middle;
        } else {
            too_big = middle;
        }
    }
    // What route constraints write fits, Unicode classes too.
    assert!(fits > 10_000, "{fits}");
    assert!(matches(r"^\w{1,100}$", "ab_1"));
    let error = Regex::parse(r"^\w{1,300}$").unwrap_err();
    assert!(error.contains("too large"), "{error}");
    assert!(matches(&format!("^a{{{fits}}}$"), &"A".repeat(fits)));
    assert!(!matches(&format!("^a{{{fits}}}$"), &"a".repeat(fits - 1)));
    let error = Regex::parse(&format!("^a{{{too_big}}}$")).unwrap_err();
    assert!(
        error.contains("too large to check on every request")
            && error.contains(&format!("{} KiB", MAX_COMPILED_BYTES / 1024)),
        "{error}"
    );
}

#[test]
fn what_is_not_matched_as_dotnet_does_is_refused_by_name() {
    for (pattern, why) in [
        ("a(?=b)", "(?=...) (a lookahead)"),
        ("a(?!b)", "(?!...) (a negative lookahead)"),
        ("(?<=a)b", "(?<=...) (a lookbehind)"),
        ("(?<!a)b", "(?<!...) (a negative lookbehind)"),
        ("(?>a+)", "(?>...) (an atomic group)"),
        ("(?<a-b>x)", "a balancing group"),
        ("(?(a)b|c)", "a conditional"),
        ("(?i)a", "inline options"),
        (r"(a)\1", r"\1, a backreference"),
        (r"(?<n>a)\k<n>", r"\k<name>, a backreference"),
        (r"\p{L}", r"\p{...}, a Unicode category"),
        (r"\Ga", r"\G"),
        (r"\q", r"\q is not an escape .NET takes"),
        (r"[\A]", "inside a class"),
        (r"\uD83D", "half of a UTF-16 pair"),
        (r"\x4", "not 2 hexadecimal digits"),
        ("[a-z-[aeiou]]", "class subtraction"),
        ("[[:alpha:]]", "[:name:]"),
        ("(a", "without its \")\""),
        ("a)", "without its \"(\""),
        ("[a", "without its \"]\""),
        ("*a", "follows nothing"),
        ("({2}a)", "follows nothing"),
        ("a**", "follows a quantifier"),
        ("[z-a]", "reverse order"),
        ("a{3,1}", "maximum below its minimum"),
        ("a{99999999999}", "counts past what .NET takes"),
        (&"(".repeat(100_000), "without its \")\""),
        (&("(".repeat(1_000) + "a" + &")".repeat(1_000)), "nest"),
    ] {
        let error = Regex::parse(pattern)
            .err()
            .unwrap_or_else(|| panic!("{pattern} should be refused"));
        assert!(error.contains(why), "{pattern}: {error}");
    }
}
