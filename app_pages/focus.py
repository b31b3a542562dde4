"""After Search, keyboard focus and the view move to the answer."""

from __future__ import annotations

import streamlit as st


def move_to_answer() -> None:
    """After Search, move keyboard focus (and so the screen reader) and the view to the answer.
    Streamlit cannot move focus itself; a small script does it once per search."""
    counter = st.session_state.get("fh_new_search", 0)
    if not counter or st.session_state.get("fh_moved") == counter:
        return
    st.session_state.fh_moved = counter
    # st.html runs the script in the page itself: no frame to load, unlike components.html.
    st.html(
        # Each search's script runs in the same page: its names live in a function of their own
        # (a second top-level `let tries` would be a redeclaration, and the script would stop).
        f"""<script>/* search {counter} */
        (() => {{
        let tries = 0, checks = 0, left = null;
        const move = () => {{
          const target = document.getElementById("answer");
          if (!target) {{ if (tries++ < 40) setTimeout(move, 50); return; }}
          if (left === null) {{
            target.setAttribute("tabindex", "-1");
            target.focus({{preventScroll: true}});
          }} else if (Math.abs(target.getBoundingClientRect().top - left) > 2) {{
            return;  // the person has scrolled since: the view is theirs
          }}
          target.scrollIntoView({{block: "start"}});
          left = target.getBoundingClientRect().top;
          // The cards below may still be drawing, and a page not yet tall enough cannot bring the
          // answer to the top: on a slow phone the first card stayed below the screen. Try again
          // while the answer is not at the top, for a second and a half.
          if (left > 4 && checks++ < 15) setTimeout(move, 100);
        }};
        move();
        }})();
        </script>""",
        unsafe_allow_javascript=True,
    )
