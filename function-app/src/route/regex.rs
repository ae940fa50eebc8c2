//! The `regex(...)` route constraint: .NET regular expressions as ASP.NET
//! Core's `RegexRouteConstraint` uses them (case-insensitive, culture-
//! invariant, matched anywhere in the value unless anchored), for the
//! syntax route constraints use: literals, escapes (`\d \w \s \b \A \z`
//! and their negations, escaped punctuation), `.`, classes, groups,
//! alternation, greedy and lazy quantifiers, `^` and `$`. Matched by a
//! Thompson NFA in time proportional to the value's length times the
//! pattern's, so no value can make it run long (docs/function-app.md,
//! "Route constraints").

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Regex {
    program: Vec<Inst>,
}

#[derive(Debug, Clone, PartialEq)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Split(usize, usize),
    Jump(usize),
    Assert(Assertion),
    Match,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Assertion {
    /// `^`, `\A`.
    Start,
    /// `$`, `\Z`: the end, or before a final newline.
    End,
    /// `\z`.
    EndOnly,
    WordBoundary,
    NotWordBoundary,
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone, PartialEq)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// The most instructions a pattern compiles to: counted repetitions are
/// copied out, and a pattern past this would cost too much per request.
const MAX_PROGRAM: usize = 10_000;

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl ClassItem {
    fn contains(&self, c: char) -> bool {
        match *self {
            ClassItem::Range(lo, hi) => {
                let within = |c: char| (lo..=hi).contains(&c);
                within(c) || c.to_lowercase().any(within) || c.to_uppercase().any(within)
            }
            ClassItem::Digit(yes) => c.is_numeric() == yes,
            ClassItem::Word(yes) => is_word(c) == yes,
            ClassItem::Space(yes) => c.is_whitespace() == yes,
        }
    }
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.items.iter().any(|item| item.contains(c)) != self.negated
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Parser<'_> {
    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concatenation()?];
        while self.chars.peek() == Some(&'|') {
            self.chars.next();
            branches.push(self.concatenation()?);
        }
        Ok(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alternate(branches)
        })
    }

    fn concatenation(&mut self) -> Result<Node, String> {
        let mut nodes = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            nodes.push(self.quantified(atom)?);
            if matches!(self.chars.peek(), Some('*' | '+')) {
                return Err("a quantifier follows a quantifier".to_owned());
            }
        }
        Ok(Node::Concat(nodes))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.chars.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                // `{` not followed by a count is a literal, as in .NET.
                let rest: String = self.chars.clone().take_while(|c| *c != '}').collect();
                let closed = self.chars.clone().nth(rest.chars().count()) == Some('}');
                let Some((min, max)) = counts(&rest[1.min(rest.len())..]).filter(|_| closed) else {
                    return Ok(atom);
                };
                for _ in 0..rest.chars().count() + 1 {
                    self.chars.next();
                }
                if self.chars.peek() == Some(&'?') {
                    self.chars.next();
                }
                return self.check_repeat(atom, min, max);
            }
            _ => return Ok(atom),
        };
        self.chars.next();
        if self.chars.peek() == Some(&'?') {
            // Lazy or greedy, whether there is a match is the same.
            self.chars.next();
        }
        self.check_repeat(atom, min, max)
    }

    fn check_repeat(&self, atom: Node, min: u32, max: Option<u32>) -> Result<Node, String> {
        if matches!(atom, Node::Assert(_) | Node::Empty) {
            return Ok(atom);
        }
        if max.is_some_and(|max| max < min) {
            return Err("a quantifier {n,m} with m below n".to_owned());
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.chars.next() else {
            return Ok(Node::Empty);
        };
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Assert(Assertion::Start),
            '$' => Node::Assert(Assertion::End),
            '[' => Node::Class(self.class()?),
            '(' => {
                if self.chars.peek() == Some(&'?') {
                    self.chars.next();
                    match self.chars.next() {
                        Some(':') => {}
                        Some('<') | Some('\'') => {
                            // A named group: its name does not matter here.
                            for c in self.chars.by_ref() {
                                if c == '>' || c == '\'' {
                                    break;
                                }
                            }
                        }
                        other => {
                            return Err(format!(
                                "the group construct (?{}...) is not one this crate matches (groups, (?:...) and (?<name>...) are)",
                                other.map(String::from).unwrap_or_default()
                            ));
                        }
                    }
                }
                let inner = self.alternation()?;
                if self.chars.next() != Some(')') {
                    return Err("a \"(\" without its \")\"".to_owned());
                }
                inner
            }
            ')' => return Err("a \")\" without its \"(\"".to_owned()),
            '*' | '+' | '?' => return Err(format!("{c:?} follows nothing to repeat")),
            '\\' => self.escape(false)?,
            c => Node::Char(c),
        })
    }

    /// After a `\`; `in_class`: inside `[...]`, where `\b` is a backspace.
    fn escape(&mut self, in_class: bool) -> Result<Node, String> {
        let Some(c) = self.chars.next() else {
            return Err("a \"\\\" at the end".to_owned());
        };
        let class = |item: ClassItem| {
            Node::Class(Class {
                negated: false,
                items: vec![item],
            })
        };
        Ok(match c {
            'd' => class(ClassItem::Digit(true)),
            'D' => class(ClassItem::Digit(false)),
            'w' => class(ClassItem::Word(true)),
            'W' => class(ClassItem::Word(false)),
            's' => class(ClassItem::Space(true)),
            'S' => class(ClassItem::Space(false)),
            'b' if in_class => Node::Char('\u{8}'),
            'b' => Node::Assert(Assertion::WordBoundary),
            'B' => Node::Assert(Assertion::NotWordBoundary),
            'A' => Node::Assert(Assertion::Start),
            'Z' => Node::Assert(Assertion::End),
            'z' => Node::Assert(Assertion::EndOnly),
            't' => Node::Char('\t'),
            'n' => Node::Char('\n'),
            'r' => Node::Char('\r'),
            'f' => Node::Char('\u{c}'),
            'v' => Node::Char('\u{b}'),
            'e' => Node::Char('\u{1b}'),
            'x' | 'u' => {
                let digits = if c == 'x' { 2 } else { 4 };
                let hex: String = (0..digits).filter_map(|_| self.chars.next()).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == digits)
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("\\{c}{hex} is not a character"))?;
                Node::Char(code)
            }
            c if c.is_ascii_alphanumeric() => {
                return Err(format!(
                    "the escape \\{c} is not one this crate matches (\\d \\w \\s \\b \\A \\z, their negations, \\t \\n \\r \\xhh \\uhhhh and escaped punctuation are)"
                ));
            }
            c => Node::Char(c),
        })
    }

    fn class(&mut self) -> Result<Class, String> {
        let negated = self.chars.peek() == Some(&'^');
        if negated {
            self.chars.next();
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.chars.next() else {
                return Err("a \"[\" without its \"]\"".to_owned());
            };
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '\\' => match self.escape(true)? {
                    Node::Char(c) => c,
                    Node::Class(class) => {
                        items.extend(class.items);
                        continue;
                    }
                    _ => return Err("an escape a class cannot hold".to_owned()),
                },
                '[' if self.chars.peek() == Some(&':') => {
                    return Err("[:class:] inside a class is not one this crate matches".to_owned());
                }
                c => c,
            };
            let mut ahead = self.chars.clone();
            if ahead.next() == Some('-') && ahead.peek().is_some_and(|c| *c != ']') {
                self.chars.next();
                let high = match self.chars.next() {
                    Some('\\') => match self.escape(true)? {
                        Node::Char(c) => c,
                        _ => return Err("a range cannot end with a class".to_owned()),
                    },
                    Some(c) => c,
                    None => return Err("a \"[\" without its \"]\"".to_owned()),
                };
                if high < low {
                    return Err(format!("the range {low}-{high} is backwards"));
                }
                items.push(ClassItem::Range(low, high));
            } else {
                items.push(ClassItem::Range(low, low));
            }
        }
        Ok(Class { negated, items })
    }
}

/// `n}`, `n,}` or `n,m}` (without the leading `{`): the counts.
fn counts(text: &str) -> Option<(u32, Option<u32>)> {
    let number = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    match text.split_once(',') {
        None => number(text).map(|n| (n, Some(n))),
        Some((min, "")) => number(min).map(|n| (n, None)),
        Some((min, max)) => Some((number(min)?, Some(number(max)?))),
    }
}

struct Compiler {
    program: Vec<Inst>,
}

impl Compiler {
    fn emit(&mut self, inst: Inst) -> Result<usize, String> {
        if self.program.len() >= MAX_PROGRAM {
            return Err("the pattern is too large to match on every request".to_owned());
        }
        self.program.push(inst);
        Ok(self.program.len() - 1)
    }

    fn node(&mut self, node: &Node) -> Result<(), String> {
        match node {
            Node::Empty => {}
            Node::Char(c) => {
                self.emit(Inst::Char(*c))?;
            }
            Node::Any => {
                self.emit(Inst::Any)?;
            }
            Node::Class(class) => {
                self.emit(Inst::Class(class.clone()))?;
            }
            Node::Assert(assertion) => {
                self.emit(Inst::Assert(*assertion))?;
            }
            Node::Concat(nodes) => {
                for node in nodes {
                    self.node(node)?;
                }
            }
            Node::Alternate(branches) => {
                let mut jumps = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    if index + 1 < branches.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(branch)?;
                        jumps.push(self.emit(Inst::Jump(0))?);
                        let next = self.program.len();
                        self.program[split] = Inst::Split(split + 1, next);
                    } else {
                        self.node(branch)?;
                    }
                }
                let end = self.program.len();
                for jump in jumps {
                    self.program[jump] = Inst::Jump(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    self.node(inner)?;
                }
                match max {
                    None => {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(inner)?;
                        self.emit(Inst::Jump(split))?;
                        let end = self.program.len();
                        self.program[split] = Inst::Split(split + 1, end);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.emit(Inst::Split(0, 0))?);
                            self.node(inner)?;
                        }
                        let end = self.program.len();
                        for split in splits {
                            self.program[split] = Inst::Split(split + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Regex {
    pub(crate) fn parse(pattern: &str) -> Result<Regex, String> {
        let mut parser = Parser {
            chars: pattern.chars().peekable(),
        };
        let node = parser.alternation()?;
        if parser.chars.next().is_some() {
            return Err("a \")\" without its \"(\"".to_owned());
        }
        let mut compiler = Compiler {
            program: Vec::new(),
        };
        compiler.node(&node)?;
        compiler.emit(Inst::Match)?;
        Ok(Regex {
            program: compiler.program,
        })
    }

    /// Whether the pattern matches anywhere in `text`, ignoring case.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut current = vec![false; self.program.len()];
        let mut list = Vec::new();
        for at in 0..=chars.len() {
            // A match may start anywhere.
            if self.add(&mut current, &mut list, 0, &chars, at) {
                return true;
            }
            let Some(&c) = chars.get(at) else {
                break;
            };
            let mut next = vec![false; self.program.len()];
            let mut next_list = Vec::new();
            for &pc in &list {
                let advances = match &self.program[pc] {
                    Inst::Char(expected) => same_char(*expected, c),
                    Inst::Any => c != '\n',
                    Inst::Class(class) => class.contains(c),
                    _ => false,
                };
                if advances && self.add(&mut next, &mut next_list, pc + 1, &chars, at + 1) {
                    return true;
                }
            }
            current = next;
            list = next_list;
        }
        false
    }

    /// Adds `pc` and what it reaches without reading a character; whether
    /// that reaches `Match`.
    fn add(
        &self,
        on: &mut [bool],
        list: &mut Vec<usize>,
        pc: usize,
        chars: &[char],
        at: usize,
    ) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if on[pc] {
                continue;
            }
            on[pc] = true;
            match &self.program[pc] {
                Inst::Match => return true,
                Inst::Jump(to) => stack.push(*to),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Assert(assertion) => {
                    if holds(*assertion, chars, at) {
                        stack.push(pc + 1);
                    }
                }
                _ => list.push(pc),
            }
        }
        false
    }
}

fn same_char(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

fn holds(assertion: Assertion, chars: &[char], at: usize) -> bool {
    let word_before = at > 0 && is_word(chars[at - 1]);
    let word_after = chars.get(at).is_some_and(|c| is_word(*c));
    match assertion {
        Assertion::Start => at == 0,
        Assertion::End => at == chars.len() || (at + 1 == chars.len() && chars[at] == '\n'),
        Assertion::EndOnly => at == chars.len(),
        Assertion::WordBoundary => word_before != word_after,
        Assertion::NotWordBoundary => word_before == word_after,
    }
}

#[cfg(test)]
mod tests {
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
}
