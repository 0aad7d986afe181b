//! The release gate with holds proposed and waiting: one blocks alone, once per proposal,
//! after the holds and before the nonconformances.

use quality::nc::{BlockReason, Hold, NcState, NcSummary, ReleaseDecision, release_gate_pending};

#[test]
fn a_proposed_hold_blocks_alone_and_comes_after_the_holds() {
    let proposed = [("P-2".to_owned(), "awaiting approval".to_owned())];
    let ReleaseDecision::Blocked { reasons } = release_gate_pending(&[], &proposed, &[]) else {
        panic!("a proposed hold must block");
    };
    assert!(
        matches!(&reasons[..], [BlockReason::HoldProposed { proposal_id, .. }] if proposal_id == "P-2")
    );
    let holds = [Hold {
        id: "H1".into(),
        reason: "held".into(),
        released: false,
    }];
    let ncs = [NcSummary {
        id: "NC-1".into(),
        state: NcState::Open,
        disposition: None,
    }];
    let twice = [proposed[0].clone(), proposed[0].clone()];
    let ReleaseDecision::Blocked { reasons } = release_gate_pending(&holds, &twice, &ncs) else {
        panic!("must block");
    };
    assert!(
        matches!(
            &reasons[..],
            [
                BlockReason::Hold { .. },
                BlockReason::HoldProposed { .. },
                BlockReason::OpenNonconformance { .. }
            ]
        ),
        "one per proposal, in order: {reasons:?}"
    );
}
