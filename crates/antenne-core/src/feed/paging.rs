//! RFC 5005 paged feeds: the main feed lists the newest [`PAGE_SIZE`] items and links to
//! older pages with `atom:link rel="next"`.

use std::ops::Range;

use super::model::Paging;

/// Items on one page (the main feed is page 1).
pub const PAGE_SIZE: usize = 300;

/// The item range of 1-based `page` over `total` items (newest first) and its links, built
/// with `url_of(page)`; `None` for a page past the end (page 1 always exists, even empty).
pub fn page(
    total: usize,
    page: usize,
    page_size: usize,
    url_of: impl Fn(usize) -> String,
) -> Option<(Range<usize>, Paging)> {
    let page_size = page_size.max(1);
    let pages = total.div_ceil(page_size).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let start = (page - 1) * page_size;
    let range = start..(start + page_size).min(total);
    let paging = if pages == 1 {
        Paging::default()
    } else {
        Paging {
            first: Some(url_of(1)),
            previous: (page > 1).then(|| url_of(page - 1)),
            next: (page < pages).then(|| url_of(page + 1)),
            last: Some(url_of(pages)),
        }
    };
    Some((range, paging))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(p: usize) -> String {
        format!("/feed.xml?page={p}")
    }

    #[test]
    fn pages() {
        let (r, p) = page(10, 1, 300, url).unwrap();
        assert_eq!((r, p), (0..10, Paging::default()));
        let (r, p) = page(0, 1, 300, url).unwrap();
        assert_eq!((r, p), (0..0, Paging::default()));
        let (r, p) = page(650, 1, 300, url).unwrap();
        assert_eq!(r, 0..300);
        assert_eq!(p.next.as_deref(), Some("/feed.xml?page=2"));
        assert_eq!(p.previous, None);
        assert_eq!(p.last.as_deref(), Some("/feed.xml?page=3"));
        let (r, p) = page(650, 3, 300, url).unwrap();
        assert_eq!(r, 600..650);
        assert_eq!(
            (p.next, p.previous.as_deref()),
            (None, Some("/feed.xml?page=2"))
        );
        assert_eq!(page(650, 4, 300, url), None);
        assert_eq!(page(650, 0, 300, url), None);
    }
}
