//! The prune decision for every image of an app, as a pure function of what was
//! read: the images, what refers to each, and the retention rules. No AWS here, so
//! the rule "never delete what is referenced, always keep the newest N" is checked
//! by a property test over random inputs.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{AmiId, Span, Timestamp};

/// One image of the app, as prune needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: AmiId,
    /// `base`, `app`, or whatever the kiln:role tag says.
    pub role: String,
    /// `None` when EC2 does not say: treated as new (kept).
    pub created: Option<Timestamp>,
    /// The base an app image was built on (kiln:base-ami).
    pub base: Option<AmiId>,
    /// EBS snapshots with their size in GiB.
    pub snapshots: Vec<(String, i32)>,
}

/// Retention: the newest `keep` per role and everything younger than `min_age`.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub keep: usize,
    pub min_age: Span,
    pub now: Timestamp,
}

/// Why an image must stay, found outside the retention rules: registry labels and
/// the rollback window, launch template versions, launch configurations,
/// instances, deploy locks. Reasons are shown as they are.
pub type References = BTreeMap<AmiId, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Keep(Vec<String>),
    Delete(Vec<String>),
}

impl Decision {
    pub fn deletes(&self) -> bool {
        matches!(self, Decision::Delete(_))
    }

    pub fn reasons(&self) -> &[String] {
        match self {
            Decision::Keep(r) | Decision::Delete(r) => r,
        }
    }
}

/// Decides every candidate. App images (any role but `base`) are decided first,
/// so a base that a kept app image was built on is kept too.
pub fn plan(
    candidates: &[Candidate],
    references: &References,
    rules: Rules,
) -> Vec<(Candidate, Decision)> {
    let mut roles: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for candidate in candidates {
        roles
            .entry(candidate.role.as_str())
            .or_default()
            .push(candidate);
    }
    let mut order: Vec<&str> = roles.keys().copied().filter(|r| *r != "base").collect();
    if roles.contains_key("base") {
        order.push("base");
    }
    let mut bases_in_use: BTreeMap<AmiId, BTreeSet<AmiId>> = BTreeMap::new();
    let mut decided = Vec::new();
    for role in order {
        let mut images = roles[role].clone();
        // Newest first; images without a date count as newest.
        images.sort_by(|a, b| {
            let key = |c: &Candidate| c.created.map_or(i64::MAX, |t| t.0);
            key(b).cmp(&key(a)).then_with(|| b.id.cmp(&a.id))
        });
        for (rank, image) in images.into_iter().enumerate() {
            let mut keep = Vec::new();
            if rank < rules.keep {
                keep.push(format!("among the newest {} {role} images", rules.keep));
            }
            match image.created {
                None => keep.push("EC2 gives no creation date".to_string()),
                Some(created) if rules.now.0 - created.0 < rules.min_age.as_secs() as i64 => {
                    keep.push(format!(
                        "younger than {} ({} old)",
                        rules.min_age,
                        created.age(rules.now)
                    ));
                }
                Some(_) => {}
            }
            if let Some(found) = references.get(&image.id) {
                keep.extend(found.iter().cloned());
            }
            if let Some(apps) = bases_in_use.get(&image.id) {
                let apps: Vec<&str> = apps.iter().map(|a| a.as_str()).collect();
                keep.push(format!("base of kept image {}", apps.join(", ")));
            }
            let decision = if keep.is_empty() {
                let age = image.created.map_or(String::new(), |c| c.age(rules.now));
                Decision::Delete(vec![format!(
                    "{age} old, beyond the newest {}, nothing refers to it",
                    rules.keep
                )])
            } else {
                Decision::Keep(keep)
            };
            if !decision.deletes()
                && let Some(base) = &image.base
            {
                bases_in_use
                    .entry(base.clone())
                    .or_default()
                    .insert(image.id.clone());
            }
            decided.push((image.clone(), decision));
        }
    }
    keep_bases_of_kept(&mut decided);
    decided
}

/// A base that a kept image was built on is kept, to any depth (a base built on
/// another base): repeats until nothing changes.
fn keep_bases_of_kept(decided: &mut [(Candidate, Decision)]) {
    loop {
        let mut users: BTreeMap<AmiId, BTreeSet<AmiId>> = BTreeMap::new();
        for (image, decision) in decided.iter() {
            if let (false, Some(base)) = (decision.deletes(), &image.base) {
                users
                    .entry(base.clone())
                    .or_default()
                    .insert(image.id.clone());
            }
        }
        let mut changed = false;
        for (image, decision) in decided.iter_mut() {
            if let (true, Some(kept)) = (decision.deletes(), users.get(&image.id)) {
                let kept: Vec<&str> = kept.iter().map(|a| a.as_str()).collect();
                *decision = Decision::Keep(vec![format!("base of kept image {}", kept.join(", "))]);
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;
    const NOW: Timestamp = Timestamp(2_000_000_000);

    fn rules() -> Rules {
        Rules {
            keep: 2,
            min_age: Span::secs(7 * DAY as u64),
            now: NOW,
        }
    }

    fn image(id: &str, role: &str, days_old: i64, base: Option<&str>) -> Candidate {
        Candidate {
            id: AmiId::from_aws(id),
            role: role.into(),
            created: Some(Timestamp(NOW.0 - days_old * DAY)),
            base: base.map(AmiId::from_aws),
            snapshots: vec![(format!("snap-{id}"), 8)],
        }
    }

    #[test]
    fn retention_references_and_bases() {
        let images = vec![
            image("ami-a1", "app", 1, Some("ami-b3")),
            image("ami-a2", "app", 20, Some("ami-b3")),
            image("ami-a3", "app", 30, Some("ami-b2")),
            image("ami-a4", "app", 40, Some("ami-b1")),
            image("ami-b1", "base", 50, None),
            image("ami-b2", "base", 60, None),
            image("ami-b3", "base", 70, None),
            image("ami-b4", "base", 80, None),
        ];
        let references = References::from([(
            AmiId::from_aws("ami-a4"),
            vec!["launch template lt-0abc v7".to_string()],
        )]);
        let decided: BTreeMap<String, Decision> = plan(&images, &references, rules())
            .into_iter()
            .map(|(c, d)| (c.id.to_string(), d))
            .collect();
        assert_eq!(
            decided["ami-a1"],
            Decision::Keep(vec![
                "among the newest 2 app images".into(),
                "younger than 7d (1d old)".into()
            ])
        );
        assert!(decided["ami-a3"].deletes());
        assert_eq!(
            decided["ami-a4"],
            Decision::Keep(vec!["launch template lt-0abc v7".into()])
        );
        // b1 is the base of a4 (kept by its launch template); b2 only of a3 (deleted).
        assert_eq!(
            decided["ami-b1"],
            Decision::Keep(vec![
                "among the newest 2 base images".into(),
                "base of kept image ami-a4".into()
            ])
        );
        assert_eq!(
            decided["ami-b3"],
            Decision::Keep(vec!["base of kept image ami-a1, ami-a2".into()])
        );
        assert_eq!(
            decided["ami-b4"],
            Decision::Delete(vec![
                "80d old, beyond the newest 2, nothing refers to it".into()
            ])
        );
    }

    fn arbitrary_images() -> impl Strategy<Value = (Vec<Candidate>, References, usize)> {
        let one = (
            0u32..30,
            prop::bool::ANY,
            0i64..400,
            proptest::option::of(0u32..30),
        );
        (
            prop::collection::vec(one, 0..40),
            prop::collection::btree_set(0u32..30, 0..10),
            0usize..5,
        )
            .prop_map(|(raw, referenced, keep)| {
                let mut seen = BTreeSet::new();
                let images: Vec<Candidate> = raw
                    .into_iter()
                    .filter(|(n, ..)| seen.insert(*n))
                    .map(|(n, is_base, days, base)| Candidate {
                        id: AmiId::from_aws(format!("ami-{n:08x}")),
                        role: if is_base { "base" } else { "app" }.into(),
                        created: Some(Timestamp(NOW.0 - days * DAY)),
                        base: base.map(|b| AmiId::from_aws(format!("ami-{b:08x}"))),
                        snapshots: Vec::new(),
                    })
                    .collect();
                let references = referenced
                    .into_iter()
                    .map(|n| {
                        (
                            AmiId::from_aws(format!("ami-{n:08x}")),
                            vec!["referenced".to_string()],
                        )
                    })
                    .collect();
                (images, references, keep)
            })
    }

    proptest! {
        #[test]
        fn never_deletes_a_referenced_image_and_always_keeps_the_newest(
            (images, references, keep) in arbitrary_images()
        ) {
            let rules = Rules { keep, ..rules() };
            let decided = plan(&images, &references, rules);
            prop_assert_eq!(decided.len(), images.len());
            let kept: BTreeSet<AmiId> = decided
                .iter()
                .filter(|(_, d)| !d.deletes())
                .map(|(c, _)| c.id.clone())
                .collect();
            for (image, decision) in &decided {
                if decision.deletes() {
                    prop_assert!(!references.contains_key(&image.id), "deleted a referenced image");
                    let created = image.created.unwrap();
                    prop_assert!(NOW.0 - created.0 >= 7 * DAY, "deleted a young image");
                    let base_of_kept = decided.iter().any(|(other, d)| {
                        !d.deletes() && other.base.as_ref() == Some(&image.id)
                    });
                    prop_assert!(!base_of_kept, "deleted the base of a kept image");
                }
            }
            for role in ["app", "base"] {
                let mut of_role: Vec<&Candidate> = images.iter().filter(|c| c.role == role).collect();
                of_role.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
                for newest in of_role.iter().take(keep) {
                    prop_assert!(kept.contains(&newest.id), "{} is among the newest {}", newest.id, keep);
                }
            }
        }
    }
}
