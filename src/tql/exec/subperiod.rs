//! Sub-periods: `agg(v)[P]`.
//!
//! Buckets are `((n-1)·P, n·P]`, aligned to multiples of `P` (so a point exactly at `n·P`
//! belongs to bucket `n`), and each output point sits at the bucket's end `n·P`. Only buckets
//! holding at least one point in the window produce output.
//!
//! The members of a group are merged bucket by bucket ([`BucketWalker`]): each member keeps
//! one block (or one undecoded chunk summary) and the group keeps one accumulator, so memory
//! doesn't grow with the length of the range. A chunk lying entirely inside the window and
//! inside one bucket is added from its summary without decoding.

use std::sync::Arc;

use super::aggregate::{Acc, Groups, output_type};
use super::{BLOCK, Buf, EmptyReader, SeriesReader, Step, ValuesRef, VectorNode, values_of};
use crate::series::types::{ChunkSummary, Labels, ValueType};
use crate::tql::ast::AggFunc;
use crate::tql::error::TqlError;

/// The end `n·P` of the bucket holding `t`.
pub(crate) fn bucket_end(t: i64, period: i64) -> Result<i64, TqlError> {
    let n = t.div_euclid(period) + i64::from(t.rem_euclid(period) != 0);
    n.checked_mul(period).ok_or(TqlError::Overflow)
}

/// Receives the contents of one bucket.
pub(crate) trait BucketSink {
    /// A whole chunk inside the bucket (only when the walker uses summaries).
    fn summary(&mut self, member: usize, summary: &ChunkSummary) -> Result<(), TqlError>;
    /// Points of member `member` inside the bucket.
    fn values(
        &mut self,
        member: usize,
        timestamps: &[i64],
        values: ValuesRef<'_>,
    ) -> Result<(), TqlError>;
}

impl BucketSink for Acc {
    fn summary(&mut self, _member: usize, summary: &ChunkSummary) -> Result<(), TqlError> {
        self.add_summary(summary)
    }

    fn values(
        &mut self,
        _member: usize,
        _timestamps: &[i64],
        values: ValuesRef<'_>,
    ) -> Result<(), TqlError> {
        self.add_values(values)
    }
}

enum State {
    /// Nothing buffered: call `next`.
    Empty,
    /// An undecoded chunk.
    Summary(ChunkSummary),
    /// Points of `buf` from this index on are unconsumed.
    Points(usize),
    Done,
}

struct Member {
    reader: Box<dyn SeriesReader>,
    buf: Buf,
    state: State,
}

impl Member {
    /// Makes sure something is buffered; returns the timestamp of the next unconsumed point.
    fn head(&mut self, use_summaries: bool) -> Result<Option<i64>, TqlError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Summary(s) => return Ok(Some(s.first_timestamp)),
                State::Points(p) if p < self.buf.end => return Ok(Some(self.buf.ts[p])),
                State::Points(_) | State::Empty => {
                    self.state = match self.reader.next(&mut self.buf, use_summaries)? {
                        Step::End => State::Done,
                        Step::Summary(s) if s.count > 0 => State::Summary(s),
                        Step::Summary(_) => State::Empty,
                        Step::Points => State::Points(self.buf.start),
                    };
                }
            }
        }
    }
}

/// Walks the members of a group bucket by bucket.
pub(crate) struct BucketWalker {
    members: Vec<Member>,
    period: i64,
    use_summaries: bool,
}

impl BucketWalker {
    pub fn new(
        input: &dyn VectorNode,
        members: &[usize],
        period: i64,
        use_summaries: bool,
    ) -> Result<BucketWalker, TqlError> {
        let members = members
            .iter()
            .map(|&m| {
                Ok(Member {
                    reader: input.open(m)?,
                    buf: Buf::new(input.value_type(m)),
                    state: State::Empty,
                })
            })
            .collect::<Result<Vec<_>, TqlError>>()?;
        Ok(BucketWalker {
            members,
            period,
            use_summaries,
        })
    }

    /// Feeds the next non-empty bucket to `sink` and returns its end, or `None` when every
    /// member is exhausted.
    pub fn next_bucket(&mut self, sink: &mut dyn BucketSink) -> Result<Option<i64>, TqlError> {
        let mut first: Option<i64> = None;
        for m in &mut self.members {
            if let Some(t) = m.head(self.use_summaries)? {
                first = Some(first.map_or(t, |f| f.min(t)));
            }
        }
        let Some(first) = first else {
            return Ok(None);
        };
        let end = bucket_end(first, self.period)?;
        let mut progressed = false;
        for (index, m) in self.members.iter_mut().enumerate() {
            loop {
                match m.state {
                    State::Done => break,
                    State::Empty => {
                        if m.head(self.use_summaries)?.is_none() {
                            break;
                        }
                    }
                    State::Summary(s) => {
                        if s.first_timestamp > end {
                            break;
                        }
                        if s.last_timestamp <= end {
                            // Every remaining point is after `first`, so the chunk lies
                            // entirely inside ((n-1)·P, n·P].
                            sink.summary(index, &s)?;
                            m.state = State::Empty;
                            progressed = true;
                        } else {
                            m.reader.load(&mut m.buf)?;
                            m.state = State::Points(m.buf.start);
                        }
                    }
                    State::Points(p) => {
                        let stop = m.buf.end;
                        if p >= stop {
                            m.state = State::Empty;
                            continue;
                        }
                        let n = m.buf.ts[p..stop].partition_point(|&t| t <= end);
                        if n > 0 {
                            sink.values(
                                index,
                                &m.buf.ts[p..p + n],
                                values_of(&m.buf.vals, p, p + n),
                            )?;
                            progressed = true;
                        }
                        if p + n >= stop {
                            m.state = State::Empty;
                        } else {
                            m.state = State::Points(p + n);
                            break;
                        }
                    }
                }
            }
        }
        if !progressed {
            // Only possible if storage returns chunks whose summary disagrees with their
            // points, or points out of order; stop rather than loop forever.
            return Err(TqlError::Source(
                "chunk timestamps are out of order or disagree with their summary".into(),
            ));
        }
        Ok(Some(end))
    }
}

/// `sum/count/avg/min/max(v)[P]`, one output series per group.
pub(crate) struct SubPeriodNode {
    input: Arc<dyn VectorNode>,
    groups: Groups,
    func: AggFunc,
    period: i64,
}

impl SubPeriodNode {
    pub fn new(
        input: Arc<dyn VectorNode>,
        groups: Groups,
        func: AggFunc,
        period: i64,
    ) -> SubPeriodNode {
        SubPeriodNode {
            input,
            groups,
            func,
            period,
        }
    }
}

impl VectorNode for SubPeriodNode {
    fn series_count(&self) -> usize {
        self.groups.labels.len()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.groups
            .labels
            .get(series)
            .unwrap_or(&super::EMPTY_LABELS)
    }

    fn value_type(&self, series: usize) -> ValueType {
        output_type(
            self.func,
            self.groups
                .types
                .get(series)
                .copied()
                .unwrap_or(ValueType::Integer64),
        )
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        let Some(members) = self.groups.members.get(series) else {
            return Ok(Box::new(EmptyReader));
        };
        Ok(Box::new(SubPeriodReader {
            walker: BucketWalker::new(self.input.as_ref(), members, self.period, true)?,
            acc: Acc::new(self.func),
            out: self.value_type(series),
            done: false,
        }))
    }
}

struct SubPeriodReader {
    walker: BucketWalker,
    acc: Acc,
    out: ValueType,
    done: bool,
}

impl SeriesReader for SubPeriodReader {
    fn next(&mut self, buf: &mut Buf, _want_summary: bool) -> Result<Step, TqlError> {
        buf.prepare(self.out);
        while !self.done && buf.ts.len() < BLOCK {
            self.acc.reset();
            match self.walker.next_bucket(&mut self.acc)? {
                None => self.done = true,
                Some(end) => {
                    if let Some(v) = self.acc.finish(self.out)?
                        && buf.vals.push(v)
                    {
                        buf.ts.push(end);
                    }
                }
            }
        }
        buf.set_all();
        Ok(if buf.is_empty() {
            Step::End
        } else {
            Step::Points
        })
    }

    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        buf.set_range(0, 0);
        Ok(())
    }
}
