//! Reading a pattern into its syntax tree, refusing what the matcher
//! does not take.

use super::{Assertion, Class, ClassItem, Node};

pub(super) struct Parser<'a> {
    pub(super) chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Parser<'_> {
    pub(super) fn alternation(&mut self) -> Result<Node, String> {
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
