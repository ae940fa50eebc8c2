//! The `regex(...)` route constraint: .NET regular expressions as ASP.NET
//! Core's `RegexRouteConstraint` uses them (case-insensitive, culture-
//! invariant, matched anywhere in the value unless anchored), for the
//! syntax route constraints use: literals, escapes (`\d \w \s \b \A \z`
//! and their negations, escaped punctuation), `.`, classes, groups,
//! alternation, greedy and lazy quantifiers, `^` and `$`. Matched by a
//! Thompson NFA in time proportional to the value's length times the
//! pattern's, so no value can make it run long (docs/function-app.md,
//! "Route constraints").

mod compile;
mod syntax;

use compile::Compiler;
use syntax::Parser;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Regex {
    program: Vec<Inst>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Inst {
    Char(char),
    Any,
    Class(Class),
    Split(usize, usize),
    Jump(usize),
    Assert(Assertion),
    Match,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Assertion {
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
pub(super) struct Class {
    pub(super) negated: bool,
    pub(super) items: Vec<ClassItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Debug, Clone)]
pub(super) enum Node {
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
pub(super) const MAX_PROGRAM: usize = 10_000;

pub(super) fn is_word(c: char) -> bool {
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
mod tests;
