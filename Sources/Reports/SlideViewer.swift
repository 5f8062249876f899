/// The zoomable view of a slide's overlay in `report.html`: the overlay's own JPEG tiles
/// (`SlideOverlay`: `TILES/LEVEL/COLUMN_ROW.jpg`, the same bytes as the TIFF's tiles, so they cost no
/// encode of their own) shown by a small viewer written here, inlined in the page, that fetches nothing
/// from outside the output folder.
///
/// **Use.** Drag to pan (mouse, pen or one finger), wheel or pinch to zoom about the pointer, the
/// + / − / fit buttons, or, with the view focused, + − 0 and the arrow keys. The view picks the
/// smallest level at least as detailed as the screen and keeps the tiles of the level before until
/// the new ones have loaded. The page's address says where the view is:
/// `report.html#slide=KEY&x=X&y=Y&z=Z` centres slide KEY on (X, Y) in slide pixels at Z screen
/// pixels per slide pixel (1: full resolution) with a yellow ring on that point; the gallery's
/// pictures and the quality map's tiles link there, and panning or zooming updates the address (without
/// adding to the history), so a view can be bookmarked or sent.
public struct SlideViewer: Sendable {
    /// The slide's key in links: its folder's name (`slides/KEY`), unique in the output folder.
    public var key: String
    /// The overlay TIFF and the folder of its viewer tiles, relative to the output folder.
    public var tiff: String
    public var tiles: String
    /// The analysis grid: side of a core in slide pixels, and its columns and rows (the quality map's
    /// blocks).
    public var coreSize: Int, columns: Int, rows: Int
    /// Each level of the pyramid, largest first: its size and its tiles' size, in its own pixels.
    public var levels: [(width: Int, height: Int, tileWidth: Int, tileHeight: Int)]

    /// The fragment that shows (`x`, `y`) of slide `key` at `zoom` screen pixels per slide pixel.
    static func link(key: String, x: Double, y: Double, zoom: Double) -> String {
        String(format: "#slide=%@&x=%.0f&y=%.0f&z=%g", urlPath(key), x, y, zoom)
    }

    /// The viewer's markup for the slide called `name`.
    func html(name: String) -> String {
        let levels = "[" + self.levels.map { "[\($0.width),\($0.height),\($0.tileWidth),\($0.tileHeight)]" }.joined(separator: ",") + "]"
        return "<div class=\"viewer\" tabindex=\"0\" data-slide=\"\(escape(key))\" data-tiles=\"\(urlPath(tiles))\" data-levels=\"\(levels)\" "
            + "aria-label=\"zoomable overlay of \(escape(name))\"><div class=\"layer\"><div class=\"mark\"></div></div>"
            + "<div class=\"controls\"><button type=\"button\" data-zoom=\"in\" title=\"zoom in (+)\">+</button>"
            + "<button type=\"button\" data-zoom=\"out\" title=\"zoom out (−)\">−</button>"
            + "<button type=\"button\" data-zoom=\"fit\" title=\"whole slide (0)\">fit</button></div>"
            + "<div class=\"where\"></div><noscript><p class=\"note\">The viewer needs JavaScript.</p></noscript></div>\n"
    }

    static let style = """
        .viewer { position: relative; height: 600px; overflow: hidden; background: #3a3a3a; border: 1px solid #999; touch-action: none; cursor: grab; user-select: none; }
        .viewer:focus { outline: 2px solid #36c; }
        .viewer .layer { position: absolute; left: 0; top: 0; overflow: hidden; }
        .viewer .layer img { position: absolute; max-width: none; }
        .viewer .mark { position: absolute; z-index: 4; width: 36px; height: 36px; margin: -20px 0 0 -20px; border: 2px solid #ff0; border-radius: 50%; box-shadow: 0 0 0 2px #000; pointer-events: none; display: none; }
        .viewer .controls { position: absolute; right: 8px; top: 8px; z-index: 5; }
        .viewer .controls button { font-size: 1.1rem; min-width: 2.4rem; height: 2.2rem; margin-left: 4px; cursor: pointer; }
        .viewer .where { position: absolute; left: 8px; bottom: 6px; z-index: 5; color: #fff; background: rgba(0,0,0,0.55); padding: 2px 6px; font-size: 0.8rem; }
        img.map[data-slide] { cursor: zoom-in; }

        """

    /// The viewer's script, once per page: every `.viewer` on it, the address, and clicks on quality maps.
    static let script = """
        <script>
        (function () {
          'use strict';
          var viewers = {};
          function Viewer(el) {
            var levels = JSON.parse(el.getAttribute('data-levels')), tiles = el.getAttribute('data-tiles');
            var key = el.getAttribute('data-slide'), W = levels[0][0], H = levels[0][1];
            var layer = el.querySelector('.layer'), mark = el.querySelector('.mark'), where = el.querySelector('.where');
            var s = 1, cx = W / 2, cy = H / 2, shown = {}, target = null, pointers = {};
            function fitScale() { return Math.min(el.clientWidth / W, el.clientHeight / H); }
            function clamp() {
              s = Math.max(Math.min(fitScale(), 1) / 2, Math.min(s, 16));
              cx = Math.max(0, Math.min(W, cx)); cy = Math.max(0, Math.min(H, cy));
            }
            function place(img, s) {
              // Edges snapped to whole screen pixels, shared by neighbours: no hairline gaps between tiles.
              var L = levels[img.k], dx = W / L[0], dy = H / L[1];
              var x0 = Math.round(img.c * L[2] * dx * s), x1 = Math.round((img.c + 1) * L[2] * dx * s);
              var y0 = Math.round(img.r * L[3] * dy * s), y1 = Math.round((img.r + 1) * L[3] * dy * s);
              img.style.left = x0 + 'px'; img.style.top = y0 + 'px';
              img.style.width = (x1 - x0) + 'px'; img.style.height = (y1 - y0) + 'px';
            }
            function draw() {
              clamp();
              var vw = el.clientWidth, vh = el.clientHeight, k = 0, key;
              for (var i = 1; i < levels.length; i++) if (W / levels[i][0] <= 1.01 / s) k = i;
              var L = levels[k], dx = W / L[0], dy = H / L[1];
              var x0 = cx - vw / 2 / s, y0 = cy - vh / 2 / s;
              layer.style.transform = 'translate(' + Math.round(-x0 * s) + 'px,' + Math.round(-y0 * s) + 'px)';
              layer.style.width = W * s + 'px'; layer.style.height = H * s + 'px';
              var c0 = Math.max(0, Math.floor(x0 / dx / L[2])), c1 = Math.min(Math.ceil(L[0] / L[2]) - 1, Math.floor((x0 + vw / s) / dx / L[2]));
              var r0 = Math.max(0, Math.floor(y0 / dy / L[3])), r1 = Math.min(Math.ceil(L[1] / L[3]) - 1, Math.floor((y0 + vh / s) / dy / L[3]));
              var want = {}, loading = false;
              for (var r = r0; r <= r1; r++) for (var c = c0; c <= c1; c++) {
                key = k + '/' + c + '_' + r; want[key] = true;
                var img = shown[key];
                if (!img) {
                  img = document.createElement('img'); img.k = k; img.c = c; img.r = r; img.alt = ''; img.draggable = false;
                  img.onload = draw; img.src = tiles + '/' + key + '.jpg'; layer.appendChild(img); shown[key] = img;
                }
                img.style.zIndex = 2;
                if (!img.complete) loading = true;
              }
              for (key in shown) {
                var old = shown[key];
                if (want[key]) place(old, s);
                else if (old.k !== k && loading) { old.style.zIndex = 1; place(old, s); }
                else { layer.removeChild(old); delete shown[key]; }
              }
              if (target) { mark.style.display = 'block'; mark.style.left = target[0] * s + 'px'; mark.style.top = target[1] * s + 'px'; }
              where.textContent = 'x ' + Math.round(cx) + ', y ' + Math.round(cy) + ' · ' + (s >= 1 ? s.toFixed(s < 10 ? 1 : 0) + '×' : '1/' + (1 / s).toFixed(1)) + ' · level ' + k;
            }
            function zoomAt(f, mx, my) {
              var vw = el.clientWidth, vh = el.clientHeight, px = cx + (mx - vw / 2) / s, py = cy + (my - vh / 2) / s;
              s *= f; clamp(); cx = px - (mx - vw / 2) / s; cy = py - (my - vh / 2) / s;
            }
            function remember() {
              history.replaceState(null, '', '#slide=' + encodeURIComponent(key) + '&x=' + Math.round(cx) + '&y=' + Math.round(cy) + '&z=' + +s.toPrecision(3));
            }
            el.addEventListener('pointerdown', function (e) {
              if (e.target.closest('button')) return;
              el.setPointerCapture(e.pointerId); pointers[e.pointerId] = [e.clientX, e.clientY]; el.style.cursor = 'grabbing';
            });
            el.addEventListener('pointermove', function (e) {
              var p = pointers[e.pointerId]; if (!p) return;
              var ids = Object.keys(pointers);
              if (ids.length === 1) { cx -= (e.clientX - p[0]) / s; cy -= (e.clientY - p[1]) / s; }
              else {
                var o = pointers[ids[0] == e.pointerId ? ids[1] : ids[0]], box = el.getBoundingClientRect();
                var before = Math.hypot(p[0] - o[0], p[1] - o[1]), after = Math.hypot(e.clientX - o[0], e.clientY - o[1]);
                if (before > 0) zoomAt(after / before, (e.clientX + o[0]) / 2 - box.left, (e.clientY + o[1]) / 2 - box.top);
              }
              pointers[e.pointerId] = [e.clientX, e.clientY]; draw();
            });
            function up(e) { if (pointers[e.pointerId]) { delete pointers[e.pointerId]; el.style.cursor = ''; remember(); } }
            el.addEventListener('pointerup', up); el.addEventListener('pointercancel', up);
            el.addEventListener('wheel', function (e) {
              e.preventDefault();
              var box = el.getBoundingClientRect();
              zoomAt(Math.pow(2, -e.deltaY / (e.deltaMode ? 3 : 300)), e.clientX - box.left, e.clientY - box.top); draw(); remember();
            }, { passive: false });
            function button(what) {
              if (what === 'fit') { s = fitScale(); cx = W / 2; cy = H / 2; }
              else zoomAt(what === 'in' ? 2 : 0.5, el.clientWidth / 2, el.clientHeight / 2);
              draw(); remember();
            }
            el.querySelectorAll('button[data-zoom]').forEach(function (b) { b.addEventListener('click', function () { button(b.getAttribute('data-zoom')); }); });
            el.addEventListener('keydown', function (e) {
              var step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
              if (e.key === '+' || e.key === '=') button('in');
              else if (e.key === '-') button('out');
              else if (e.key === '0') button('fit');
              else if (step) { cx += step[0] * el.clientWidth / 4 / s; cy += step[1] * el.clientHeight / 4 / s; draw(); remember(); }
              else return;
              e.preventDefault();
            });
            this.show = function (x, y, z) {
              if (isFinite(x) && isFinite(y)) { cx = x; cy = y; target = [x, y]; }
              s = isFinite(z) && z > 0 ? z : 1; draw(); el.scrollIntoView({ block: 'center' });
            };
            this.fitCore = function (core) { return Math.min(el.clientWidth, el.clientHeight) / core; };
            this.draw = draw;
            s = fitScale(); draw();
          }
          function go() {
            var h = {};
            location.hash.slice(1).split('&').forEach(function (kv) {
              var i = kv.indexOf('='); if (i > 0) try { h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (e) {}
            });
            if (viewers[h.slide]) viewers[h.slide].show(+h.x, +h.y, +h.z);
          }
          document.querySelectorAll('.viewer').forEach(function (el) { viewers[el.getAttribute('data-slide')] = new Viewer(el); });
          document.querySelectorAll('img.map[data-slide]').forEach(function (img) {
            img.addEventListener('click', function (e) {
              var key = img.getAttribute('data-slide'), v = viewers[key], core = +img.getAttribute('data-core');
              var c = Math.floor(e.offsetX / img.clientWidth * +img.getAttribute('data-columns'));
              var r = Math.floor(e.offsetY / img.clientHeight * +img.getAttribute('data-rows'));
              if (v) location.hash = 'slide=' + encodeURIComponent(key) + '&x=' + (c + 0.5) * core + '&y=' + (r + 0.5) * core + '&z=' + +v.fitCore(core).toPrecision(3);
            });
          });
          window.addEventListener('hashchange', go);
          window.addEventListener('resize', function () { for (var k in viewers) viewers[k].draw(); });
          go();
        })();
        </script>

        """
}
