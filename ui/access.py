"""Who is signed in, and which pages and districts that user may see (DESIGN "Users and roles").

With an `[auth]` section in `.streamlit/secrets.toml` the app signs people in with Streamlit's `st.login` (OIDC)
and looks the signed-in email up in the users table; an email that is not there sees a polite refusal and nothing
else. Without `[auth]` the app runs as one local coordinator (`coop.registry.users.LOCAL`) and the Overview says so.
`app.py` routes only the pages `navigation()` lists for the user, and every page calls `require(KEY)` at its top,
so a page left out of the navigation also refuses when its URL is opened directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from coop import names
from coop.registry import users
from coop.registry.users import User
from ui import session

VIEWER = names.VIEWER
EVERYONE = names.ROLES
MEMBERS = (names.COORDINATOR, names.PARTNER, names.DISTRICT_ROLE)  # roles that see their districts' own lines
COORDINATOR_ONLY = (names.COORDINATOR,)


@dataclass(frozen=True)
class PageSpec:
    """One page of the app: its key, file, title, icon, navigation section and the roles that may use it."""

    key: str
    path: str
    title: str
    icon: str
    section: str
    roles: tuple[str, ...]
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", "Overview", ":material/home:", "Co-op", EVERYONE, default=True),
    PageSpec("local_spend", "pages/local_spend.py", "Local spend", ":material/eco:", "Co-op", MEMBERS),
    PageSpec("premiums", "pages/premiums.py", "Price premiums", ":material/sell:", "Co-op", MEMBERS),
    PageSpec("optimizer", "pages/optimizer.py", "Route optimizer", ":material/route:", "Decide", COORDINATOR_ONLY),
    PageSpec(
        "buying_power",
        "pages/buying_power.py",
        "Co-op buying power",
        ":material/handshake:",
        "Decide",
        COORDINATOR_ONLY,
    ),
    PageSpec("rules", "pages/rules.py", "Procurement rules", ":material/gavel:", "Decide", COORDINATOR_ONLY),
    PageSpec(
        "intake",
        "pages/intake.py",
        "Data intake",
        ":material/upload_file:",
        "Work",
        (names.COORDINATOR, names.PARTNER),
    ),
    PageSpec("packet", "pages/packet.py", "Meeting packet", ":material/description:", "Work", EVERYONE),
    PageSpec("audit", "pages/audit.py", "Audit log", ":material/history:", "Work", COORDINATOR_ONLY),
)
_BY_KEY = {p.key: p for p in PAGES}
REFUSAL = (
    "Sorry: {email} is signed in, but it is not on this co-op's list of users, so there is nothing to show. "
    "Ask the co-op's coordinator to add it (with its role and districts), or sign out and sign in with the "
    "address the co-op knows."
)


def auth_configured() -> bool:
    """Whether `.streamlit/secrets.toml` has an `[auth]` section (sign-in with `st.login`)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def signed_in_email() -> str | None:
    """The identity function: the signed-in user's email from `st.user`, or None when nobody is signed in."""
    if not st.user.is_logged_in:
        return None
    email = st.user.get("email")
    return str(email) if email else None


def _sign_in_screen() -> None:
    """The page a visitor sees before signing in: what the app is and a sign-in button; stops the run."""
    st.title("coop: the co-op's purchasing dashboard")
    st.write("Sign in with your organisation's account to see your district's figures.")
    st.button("Sign in", type="primary", on_click=st.login, key="access_sign_in")
    st.stop()


def _refuse_unknown(email: str) -> None:
    """The polite refusal for a signed-in email that is not a user of the co-op; stops the run."""
    st.title("Not a user of this co-op")
    st.warning(REFUSAL.format(email=email), icon=":material/lock:")
    st.button("Sign out", on_click=st.logout, key="access_sign_out_unknown")
    st.stop()


def current_user() -> User:
    """Who is looking: the local coordinator without `[auth]`, else the signed-in user (or a refusal and a stop)."""
    if not auth_configured():
        return users.LOCAL
    email = signed_in_email()
    if email is None:
        _sign_in_screen()
    user = users.find(session.cursor(), email)  # type: ignore[arg-type]
    if user is None:
        _refuse_unknown(email)  # type: ignore[arg-type]
    return user  # type: ignore[return-value]


def is_local() -> bool:
    """Whether the app runs without sign-in, as the one local coordinator."""
    return not auth_configured()


def allowed(user: User, key: str) -> bool:
    """Whether this user's role may use that page."""
    return user.role in _BY_KEY[key].roles


def navigation() -> dict[str, list[st.Page]]:
    """The pages the current user may use, by navigation section (what `app.py` hands to `st.navigation`)."""
    user = current_user()
    sections: dict[str, list[st.Page]] = {}
    for p in PAGES:
        if user.role in p.roles:
            sections.setdefault(p.section, []).append(st.Page(p.path, title=p.title, icon=p.icon, default=p.default))
    return sections


def require(key: str) -> User:
    """A page's first line: the current user when its role may use this page, else a refusal and a stop."""
    user = current_user()
    if not allowed(user, key):
        st.title(_BY_KEY[key].title)
        st.error(
            f"This page is not open to your role ({user.role}). Use the pages in the menu on the left.",
            icon=":material/lock:",
        )
        st.stop()
    return user


def who_line(user: User) -> str:
    """One sentence saying who is looking and what that role sees (the sidebar and the Overview show it)."""
    if is_local():
        return (
            "Running without sign-in, as the one local coordinator: every member's figures are shown. "
            "Add an `[auth]` section to `.streamlit/secrets.toml` to sign people in (README, 'Sign-in and roles')."
        )
    seen = {
        names.COORDINATOR: "every member's figures",
        names.PARTNER: "your districts' figures and loads; other members only as aggregates",
        names.DISTRICT_ROLE: "your districts' figures; other members only as aggregates",
        names.VIEWER: "co-op totals only",
    }[user.role]
    return f"Signed in as {user.email} ({user.role}): {seen}."


def sign_out_button() -> None:
    """A sign-out button in the sidebar when sign-in is configured."""
    if not is_local():
        st.sidebar.button("Sign out", on_click=st.logout, key="access_sign_out")


def packet_audience(user: User, district_names: dict[str, str]) -> str:
    """Whose figures a non-coordinator's packet holds, in words (districts by name)."""
    if user.role == names.VIEWER:
        return "co-op totals only, no district's figures or prices"
    return f"the figures of {', '.join(district_names.get(d, d) for d in user.districts)}"


def sees_districts(user: User) -> bool:
    """Whether any district's own figures are shown to this user (all but a viewer)."""
    return user.role != names.VIEWER


def visible_ids(user: User, all_ids: list[str]) -> list[str]:
    """The district ids of `all_ids` whose own figures this user may see."""
    return [d for d in all_ids if user.may_see(d)]


def intake_tabs(user: User, titles: list[str]) -> list[object]:
    """The Data intake page's tabs: all for a coordinator; for a partner only loading (first) and batches (third).

    The tabs a partner may not use are returned as None, and the page stops before it reaches them
    (`stop_unless_coordinator`).
    """
    if user.sees_everything:
        return list(st.tabs(titles))
    load, batches = st.tabs([titles[0], titles[2]])
    return [load, None, batches, None, None]


def stop_unless_coordinator(user: User) -> None:
    """End the page here for anyone but a coordinator (what follows is the coordinator's)."""
    if not user.sees_everything:
        st.stop()


def peer_lines(doc: dict[str, object]) -> list[tuple[str, str]]:
    """The peers' and the co-op's local share in words for a member: the figure, or 'withheld' and why."""
    out = []
    for label, key in (("**Other members (together)**", "peers"), ("**Co-op (all members)**", "coop")):
        part = doc.get(key) or {}
        if part.get("withheld"):  # type: ignore[union-attr]
            out.append((label, f"{part['reason']}, to keep each member's figures confidential."))  # type: ignore[index]
            continue
        share = part.get("local_share")  # type: ignore[union-attr]
        spend = part.get("total_spend")  # type: ignore[union-attr]
        shown = "not known" if share is None else f"{share:.1%}"
        out.append((label, f"local share {shown} of ${spend:,.0f} food spend."))
    return out
