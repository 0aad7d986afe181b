//! Role-based access control: roles and the permissions they grant, principals (people,
//! service accounts, AI agents) and their scopes over the plant hierarchy.
//!
//! Every API endpoint names one [`Permission`]; a request is allowed when the caller's
//! [`Role`] grants it ([`Role::allows`]) and the caller's [`Scope`] reaches the site (and, for
//! an object that belongs to an area, that area: [`Scope::reaches`]).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a caller must be allowed to do. Every endpoint of the API names one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Anyone, without a token (health, the API document).
    Public,
    /// Read plant structure, orders and state.
    ReadPlant,
    /// Read the event log.
    ReadEvents,
    /// Append events.
    WriteEvents,
    /// Read the audit trail.
    ReadAudit,
    /// Read quality data: charts, alerts, holds, nonconformances.
    ReadQuality,
    /// Record quality results, run analyses that write, place and release holds.
    WriteQuality,
    /// Move a nonconformance through its workflow and decide its disposition.
    DisposeQuality,
    /// Read genealogy: trace both ways, recall simulation, reconciliation, EPCIS queries.
    ReadTrace,
    /// Import genealogy documents (EPCIS capture, B2MML).
    WriteTrace,
    /// Check schedules against problems (computes, writes nothing).
    ReadSchedule,
    /// Compute schedules: optimise, solve, repair (writes nothing; changes go through proposals).
    WriteSchedule,
    /// Read proposals and their evidence.
    ReadProposals,
    /// Submit a proposal (engines and agents).
    ProposeChanges,
    /// Approve or reject a proposal (the policy further names which roles per action kind).
    DecideProposals,
    /// Send an approved proposal to its sink, or roll an applied one back.
    ApplyProposals,
    /// Resolve a pseudonym to the identity behind it.
    ResolvePseudonyms,
    /// Create principals and tokens.
    ManagePrincipals,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::Public,
        Permission::ReadPlant,
        Permission::ReadEvents,
        Permission::WriteEvents,
        Permission::ReadAudit,
        Permission::ReadQuality,
        Permission::WriteQuality,
        Permission::DisposeQuality,
        Permission::ReadTrace,
        Permission::WriteTrace,
        Permission::ReadSchedule,
        Permission::WriteSchedule,
        Permission::ReadProposals,
        Permission::ProposeChanges,
        Permission::DecideProposals,
        Permission::ApplyProposals,
        Permission::ResolvePseudonyms,
        Permission::ManagePrincipals,
    ];
}

/// A role; each principal has exactly one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads plant, events, quality data and proposals.
    Viewer,
    /// A viewer who also records events and quality results.
    Operator,
    /// Proposes, approves (schedule and resource kinds, per policy) and applies changes.
    Planner,
    /// Quality data, nonconformance dispositions, and quality proposals.
    QualityEngineer,
    /// Everything an operator, planner and quality engineer may do, and reads the audit trail.
    Supervisor,
    /// Everything, including tokens and resolving pseudonyms.
    Admin,
    /// An AI agent or engine: reads (pseudonymised) data and submits proposals; never decides.
    Agent,
}

impl Role {
    /// Every role, in declaration order (an array, so that it can be iterated by value).
    pub const ALL: [Role; 7] = [
        Role::Viewer,
        Role::Operator,
        Role::Planner,
        Role::QualityEngineer,
        Role::Supervisor,
        Role::Admin,
        Role::Agent,
    ];

    /// The wire name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        model::wire::name_of(&self)
    }

    /// The permissions this role grants (besides [`Permission::Public`], which everyone has).
    pub fn permissions(self) -> &'static [Permission] {
        use Permission as P;
        const READ: [Permission; 6] = [
            P::ReadPlant,
            P::ReadEvents,
            P::ReadQuality,
            P::ReadTrace,
            P::ReadSchedule,
            P::ReadProposals,
        ];
        match self {
            Role::Viewer => &READ,
            Role::Operator => &[
                P::ReadPlant,
                P::ReadEvents,
                P::ReadQuality,
                P::ReadTrace,
                P::ReadSchedule,
                P::WriteTrace,
                P::ReadProposals,
                P::WriteEvents,
                P::WriteQuality,
            ],
            Role::Planner => &[
                P::ReadPlant,
                P::ReadEvents,
                P::ReadQuality,
                P::ReadTrace,
                P::ReadSchedule,
                P::WriteSchedule,
                P::ReadProposals,
                P::ProposeChanges,
                P::DecideProposals,
                P::ApplyProposals,
            ],
            Role::QualityEngineer => &[
                P::ReadPlant,
                P::ReadEvents,
                P::ReadQuality,
                P::ReadTrace,
                P::ReadSchedule,
                P::WriteTrace,
                P::ReadProposals,
                P::WriteQuality,
                P::DisposeQuality,
                P::ProposeChanges,
                P::DecideProposals,
                P::ApplyProposals,
            ],
            Role::Supervisor => &[
                P::ReadPlant,
                P::ReadEvents,
                P::ReadQuality,
                P::ReadTrace,
                P::ReadSchedule,
                P::WriteSchedule,
                P::WriteTrace,
                P::ReadProposals,
                P::WriteEvents,
                P::WriteQuality,
                P::DisposeQuality,
                P::ProposeChanges,
                P::DecideProposals,
                P::ApplyProposals,
                P::ReadAudit,
            ],
            Role::Admin => &Permission::ALL,
            Role::Agent => &[
                P::ReadPlant,
                P::ReadEvents,
                P::ReadQuality,
                P::ReadTrace,
                P::ReadSchedule,
                P::WriteSchedule,
                P::ReadProposals,
                P::ProposeChanges,
            ],
        }
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        permission == Permission::Public || self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = model::wire::UnknownName;
    fn from_str(text: &str) -> Result<Role, Self::Err> {
        model::wire::parse("role", &Role::ALL, text)
    }
}

/// What kind of party a principal is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Person,
    Service,
    Agent,
}

model::wire_enum!(PrincipalKind, "principal kind", [Person, Service, Agent]);

impl PrincipalKind {
    /// The kind a role implies unless told otherwise: agents are agents, everyone else a person.
    pub fn for_role(role: Role) -> PrincipalKind {
        if role == Role::Agent {
            PrincipalKind::Agent
        } else {
            PrincipalKind::Person
        }
    }
}

/// Where in the plant hierarchy a principal may act.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every site (`*`).
    All,
    /// One site and everything in it (`site:ID`).
    Site(String),
    /// One area (`area:ID`); site-wide objects of the area's site are readable.
    Area(String),
}

impl Scope {
    /// Whether a principal with this scope may act on an object of `hierarchy`'s site in
    /// `area` (none for site-wide objects such as the plant itself).
    pub fn reaches(&self, hierarchy: &Hierarchy, area: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Site(site) => *site == hierarchy.site,
            Scope::Area(own) => {
                hierarchy.areas.contains(own) && area.is_none_or(|area| area == own)
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Site(id) => write!(f, "site:{id}"),
            Scope::Area(id) => write!(f, "area:{id}"),
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(text: &str) -> Result<Scope, String> {
        let bad = || format!("scope `{text}` must be `*`, `site:ID` or `area:ID`");
        if text == "*" {
            return Ok(Scope::All);
        }
        match text.split_once(':') {
            Some(("site", id)) if !id.trim().is_empty() => Ok(Scope::Site(id.trim().to_owned())),
            Some(("area", id)) if !id.trim().is_empty() => Ok(Scope::Area(id.trim().to_owned())),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Scope {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scope".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`*`, `site:ID` or `area:ID`",
            "examples": ["*", "site:ACME-1", "area:MIXING"]
        })
    }
}

/// The site and its areas, as scope checks need them (built by the caller from the plant).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hierarchy {
    pub site: String,
    pub areas: BTreeSet<String>,
}

impl Hierarchy {
    pub fn from_plant(plant: &model::Plant) -> Hierarchy {
        Hierarchy {
            site: plant.site.id.to_string(),
            areas: plant.areas.iter().map(|a| a.id.to_string()).collect(),
        }
    }
}

/// An authenticated party: who it is, what it may do and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Principal {
    /// Unique name: a user name, a service name, an agent id.
    pub id: String,
    pub kind: PrincipalKind,
    pub role: Role,
    pub scope: Scope,
}

impl Principal {
    pub fn new(id: impl Into<String>, kind: PrincipalKind, role: Role, scope: Scope) -> Principal {
        Principal {
            id: id.into(),
            kind,
            role,
            scope,
        }
    }

    /// Whether the principal may exercise `permission` on an object in `area` of the site.
    pub fn may(&self, permission: Permission, hierarchy: &Hierarchy, area: Option<&str>) -> bool {
        permission == Permission::Public
            || (self.role.allows(permission) && self.scope.reaches(hierarchy, area))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant() -> Hierarchy {
        Hierarchy {
            site: "S1".into(),
            areas: ["A", "B"].into_iter().map(String::from).collect(),
        }
    }

    #[test]
    fn scopes_parse_and_reach() {
        let h = plant();
        assert!(Scope::All.reaches(&h, Some("A")));
        let site: Scope = "site:S1".parse().unwrap();
        assert!(site.reaches(&h, None) && site.reaches(&h, Some("B")));
        assert!(!"site:S2".parse::<Scope>().unwrap().reaches(&h, None));
        let area: Scope = "area:A".parse().unwrap();
        assert!(area.reaches(&h, None) && area.reaches(&h, Some("A")));
        assert!(!area.reaches(&h, Some("B")));
        assert!(!"area:Z".parse::<Scope>().unwrap().reaches(&h, None));
        assert!("region:x".parse::<Scope>().is_err());
        assert_eq!(area.to_string(), "area:A");
    }

    #[test]
    fn agents_never_decide_and_admins_do_everything() {
        assert!(!Role::Agent.allows(Permission::DecideProposals));
        assert!(!Role::Agent.allows(Permission::ApplyProposals));
        assert!(Permission::ALL.iter().all(|p| Role::Admin.allows(*p)));
        assert!(!Role::Viewer.allows(Permission::WriteEvents));
        assert!(Role::ALL.iter().all(|r| r.allows(Permission::Public)));
        assert!(
            Role::ALL
                .iter()
                .filter(|r| r.allows(Permission::ResolvePseudonyms))
                .eq([&Role::Admin])
        );
        assert_eq!(
            "quality_engineer".parse::<Role>(),
            Ok(Role::QualityEngineer)
        );
    }

    #[test]
    fn wire_names_are_serde_names() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(Role::QualityEngineer.as_str(), "quality_engineer");
        assert_eq!(
            "boss".parse::<Role>().unwrap_err().to_string(),
            "unknown role `boss` (expected viewer, operator, planner, quality_engineer, supervisor, admin or agent)"
        );
        assert_eq!(
            "robot".parse::<PrincipalKind>().unwrap_err().to_string(),
            "unknown principal kind `robot` (expected person, service or agent)"
        );
        assert_eq!(PrincipalKind::Service.to_string(), "service");
    }
}
