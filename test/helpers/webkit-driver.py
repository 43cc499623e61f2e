"""A small WebKitGTK driver for the browser tests (test/helpers/engines.ts starts it under xvfb-run).

One web view in an ephemeral context (no cookies, cache or storage on disk). Commands come as
JSON lines on stdin, answers go as JSON lines on stdout, matched by "id":
  {"id": 1, "goto": URL}       answered once the page's document has begun to load
  {"id": 2, "call": BODY}      BODY runs as an async JavaScript function; answers {"value": result}
  {"id": 3, "quit": true}
Errors answer {"error": message}. The first line out is {"id": 0, "ready": true}.
"""
import json
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

view = WebKit2.WebView.new_with_context(WebKit2.WebContext.new_ephemeral())
window = Gtk.OffscreenWindow()
window.set_default_size(960, 600)
window.add(view)
window.show_all()
loading = []


def answer(id_, **fields):
    sys.stdout.write(json.dumps({'id': id_, **fields}) + '\n')
    sys.stdout.flush()


def on_load_changed(_view, event):
    # COMMITTED, not FINISHED: a page whose <img> holds an endless stream never finishes loading.
    if event == WebKit2.LoadEvent.COMMITTED:
        while loading:
            answer(loading.pop(0), ok=True)


def on_load_failed(_view, _event, uri, error):
    while loading:
        answer(loading.pop(0), error=f'{uri}: {error.message}')
    return False


def call(id_, body):
    def done(_view, result):
        try:
            value = view.call_async_javascript_function_finish(result)
            answer(id_, value=None if value.is_undefined() else json.loads(value.to_json(0)))
        except GLib.Error as err:
            answer(id_, error=err.message)

    view.call_async_javascript_function(body, -1, None, None, None, None, done)


def on_command(channel, _condition):
    line = channel.readline()
    if not line:
        Gtk.main_quit()
        return False
    command = json.loads(line)
    id_ = command['id']
    if 'goto' in command:
        loading.append(id_)
        view.load_uri(command['goto'])
    elif 'call' in command:
        call(id_, command['call'])
    elif 'quit' in command:
        answer(id_, ok=True)
        Gtk.main_quit()
    else:
        answer(id_, error=f'unknown command {line.strip()}')
    return True


view.connect('load-changed', on_load_changed)
view.connect('load-failed', on_load_failed)
GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, on_command)
answer(0, ready=True)
Gtk.main()
