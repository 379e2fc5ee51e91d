//! Diagnostics: a problem found in a schedule file, located by line and column, rendered like a compiler message.
//!
//! A [`Diagnostic`] resolves its byte span against the source when it is made, so it renders
//! with `Display` alone, long after the text is gone (the daemon keeps the errors of a refused
//! reload for `/api/status` and the operators' page).

use std::fmt;
use std::ops::Range;

/// Whether a problem stops the schedule from going on air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem, pointing into the file: `FILE:LINE:COL: error: message`, the line, a caret, a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The offending line, without its end of line.
    pub source_line: String,
    /// Characters the caret underlines (at least 1).
    pub width: usize,
    /// Byte offset in the file, for sorting.
    pub offset: usize,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The message alone, `FILE:LINE:COL: error: message`, for logs that want one line.
    pub fn headline(&self) -> String {
        format!(
            "{}:{}:{}: {}: {}",
            self.file,
            self.line,
            self.column,
            self.severity.as_str(),
            self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(f, "{pad} |")?;
        writeln!(f, "{num} | {}", self.source_line)?;
        let lead: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad} | {lead}{}", "^".repeat(self.width.max(1)))?;
        if let Some(hint) = &self.hint {
            write!(f, "\n{pad} = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics against one source text.
pub(crate) struct Sink<'s> {
    src: &'s str,
    file: &'s str,
    pub(crate) diags: Vec<Diagnostic>,
}

impl<'s> Sink<'s> {
    pub(crate) fn new(src: &'s str, file: &'s str) -> Self {
        Sink {
            src,
            file,
            diags: Vec::new(),
        }
    }

    pub(crate) fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Error, span, message.into())
    }

    pub(crate) fn warning(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Warning, span, message.into())
    }

    /// The source text, with the sink's lifetime rather than a borrow of the sink.
    pub(crate) fn src(&self) -> &'s str {
        self.src
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    fn push(&mut self, severity: Severity, span: Range<usize>, message: String) -> &mut Diagnostic {
        let d = locate(self.src, self.file, severity, span, message);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    /// Diagnostics in file order, errors before warnings at the same place.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diags
            .sort_by(|a, b| a.offset.cmp(&b.offset).then(b.severity.cmp(&a.severity)));
        self.diags.dedup();
        self.diags
    }
}

/// Attach a hint to a freshly pushed diagnostic.
pub(crate) trait WithHint {
    fn hint(&mut self, hint: impl Into<String>);
}

impl WithHint for Diagnostic {
    fn hint(&mut self, hint: impl Into<String>) {
        self.hint = Some(hint.into());
    }
}

fn locate(
    src: &str,
    file: &str,
    severity: Severity,
    span: Range<usize>,
    message: String,
) -> Diagnostic {
    let start = floor_char(src, span.start.min(src.len()));
    let end = floor_char(src, span.end.clamp(start, src.len()));
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let line = src[..start].matches('\n').count() + 1;
    let column = src[line_start..start].chars().count() + 1;
    let source_line = src[line_start..line_end].trim_end_matches('\r').to_string();
    let width = src[start..end.min(line_end).max(start)]
        .chars()
        .count()
        .max(1);
    Diagnostic {
        severity,
        file: file.to_string(),
        line,
        column,
        message,
        hint: None,
        source_line,
        width,
        offset: start,
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
