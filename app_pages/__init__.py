"""The web app's pages (run by app.py's navigation) and the pieces they draw.

One module per page, each with a `page()` function: `find_help`, `check_therapist`, `about_ipt`,
`about_data`. The Find help page's answer is drawn by `answer` (headings, notices, the NHS finder
box), `groups` (one group of services), `result_card` (one service), `results_map` and `focus`
(keyboard focus moves to the answer); `choices` offers places and GP surgeries as buttons;
`search_state` keeps the search in the address bar and the form; `loaders` caches what the pages
read. Pages call `finder` and draw: the words are `finder.presentation`'s, and nothing here is
needed by the command line. Not named `pages/`: that folder is Streamlit's older way of making
pages from files, which `st.navigation` replaces.
"""
