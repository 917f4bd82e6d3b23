//! insta snapshots of every vector group, as generated from the reference functions: a change
//! in reference behaviour shows up as a snapshot diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always` then read the diff), never as silently regenerated vectors. The
//! byte-for-byte check of the committed `vectors/` against the generator is in `vectors.rs`.

use sipws::vectors::{GROUPS, build, render};

#[test]
fn every_vector_group_matches_its_reviewed_snapshot() {
    for group in GROUPS {
        let file = build(group).unwrap_or_else(|e| panic!("{}: {e}", group.name));
        insta::assert_snapshot!(group.name, render(&file));
    }
}
