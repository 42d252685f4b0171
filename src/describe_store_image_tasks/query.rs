//! The request model: what to ask for, the checks made before anything is sent, and the
//! splitting of long image id lists into requests EC2 accepts.

use crate::error::{Error, Result};

/// EC2 accepts at most this many image ids in one request.
pub const MAX_IDS_PER_REQUEST: usize = 20;
/// The range EC2 accepts for MaxResults.
pub const MAX_RESULTS_RANGE: std::ops::RangeInclusive<i32> = 1..=200;

/// One filter: a name and the values any of which may match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// A DescribeStoreImageTasks request as the caller wants it (before batching).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub image_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub max_results: Option<i32>,
    pub next_token: Option<String>,
    pub dry_run: bool,
}

impl Query {
    /// The checks EC2 would make that can be made without asking it.
    pub fn validate(&self) -> Result<()> {
        if let Some(m) = self.max_results {
            if !MAX_RESULTS_RANGE.contains(&m) {
                return Err(Error::invalid(format!(
                    "max results must be between {} and {}, not {m}",
                    MAX_RESULTS_RANGE.start(),
                    MAX_RESULTS_RANGE.end()
                )));
            }
            if !self.image_ids.is_empty() {
                return Err(Error::invalid(
                    "max results cannot be combined with image ids (EC2 returns every listed image's task at once)",
                ));
            }
        }
        if let Some(i) = self.image_ids.iter().position(|id| id.trim().is_empty()) {
            return Err(Error::invalid(format!("image id #{} is empty", i + 1)));
        }
        for (i, f) in self.filters.iter().enumerate() {
            if f.name.trim().is_empty() {
                return Err(Error::invalid(format!("filter #{} has an empty name", i + 1)));
            }
        }
        if matches!(self.next_token.as_deref(), Some("")) {
            return Err(Error::invalid("the next token is empty"));
        }
        Ok(())
    }

    /// The image ids without repeats, in first-seen order.
    pub fn unique_image_ids(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::with_capacity(self.image_ids.len());
        self.image_ids.iter().filter(|id| seen.insert(id.as_str())).cloned().collect()
    }

    /// The requests to send for this query: one, or one per 20 image ids.
    pub fn batches(&self) -> Vec<Query> {
        let ids = self.unique_image_ids();
        if ids.len() <= MAX_IDS_PER_REQUEST {
            return vec![Query { image_ids: ids, ..self.clone() }];
        }
        ids.chunks(MAX_IDS_PER_REQUEST).map(|chunk| Query { image_ids: chunk.to_vec(), ..self.clone() }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let mut q = Query::default();
        assert!(q.validate().is_ok());
        q.max_results = Some(0);
        assert!(q.validate().is_err());
        q.max_results = Some(201);
        assert!(q.validate().is_err());
        q.max_results = Some(200);
        assert!(q.validate().is_ok());
        q.image_ids.push("ami-1".into());
        assert!(q.validate().unwrap_err().message.contains("cannot be combined"));
        q.max_results = None;
        q.image_ids.push(" ".into());
        assert!(q.validate().unwrap_err().message.contains("#2 is empty"));
    }

    #[test]
    fn batches_split_by_twenty_without_repeats() {
        let mut q = Query::default();
        for i in 0..45 {
            q.image_ids.push(format!("ami-{i}"));
        }
        q.image_ids.push("ami-3".into());
        let b = q.batches();
        assert_eq!(b.iter().map(|q| q.image_ids.len()).collect::<Vec<_>>(), vec![20, 20, 5]);
        assert_eq!(b[2].image_ids.last().unwrap(), "ami-44");
        assert_eq!(Query::default().batches().len(), 1);
    }
}
