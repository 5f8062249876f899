import Foundation

/// A line chart as inline SVG, for report pages that must work without a network: a frame with
/// ticks and grid lines on both axes, axis titles, one polyline per series and a legend below.
/// Lines are clipped to the plot area (a point far outside it is first pulled in to ten plot widths
/// or heights, so every coordinate stays a small finite number); non-finite points are skipped (a gap
/// in the line).
struct SVGChart {
    struct Series {
        /// The legend entry (none when empty).
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var dashed = false
        /// Draw each point as a dot, not a line (e.g. reliability bins).
        var dots = false
    }

    var title: String
    var xLabel: String, yLabel: String
    var x: ClosedRange<Double>, y: ClosedRange<Double>
    var series: [Series]
    /// A dotted grey reference line from (x.lower, y.lower) to (x.upper, y.upper), e.g. chance or calibration.
    var diagonal = false
    /// Ticks on the x axis at whole numbers only (e.g. epochs).
    var integerX = false
    var width = 380, height = 280

    /// Colour-blind-safe line colours (Okabe–Ito), in order.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    func svg() -> String {
        let left = 52.0, right = 12.0, top = 26.0, bottom = 40.0
        let legend = series.filter { !$0.name.isEmpty }
        let legendRows = (legend.count + 1) / 2
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let total = Double(height) + Double(legendRows) * 16 + (legendRows > 0 ? 10 : 0)
        /// The fraction of the way along `range`, limited to [-10, 11].
        func along(_ v: Double, _ range: ClosedRange<Double>) -> Double {
            min(max((v - range.lowerBound) / (range.upperBound - range.lowerBound), -10), 11)
        }
        func px(_ v: Double) -> Double { left + along(v, x) * plotW }
        func py(_ v: Double) -> Double { top + plotH - along(v, y) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(f(total))\" width=\"\(width)\" height=\"\(f(total))\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        // The clip path's id must be unique in the page: derived from everything the chart draws.
        let clip = "clip-" + Self.hash(title + xLabel + yLabel + "\(series.count)" + series.map(\.name).joined() + "\(x)\(y)")
        s += "<defs><clipPath id=\"\(clip)\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath></defs>\n"
        s += "<text x=\"\(f(left))\" y=\"16\" font-size=\"13\" font-weight=\"600\">\(escape(title))</text>\n"
        for t in Self.ticks(x, integer: integerX) {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotH))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 14))\" font-size=\"10\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        for t in Self.ticks(y) {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t)))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(py(t) + 3))\" font-size=\"10\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#888\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + 30))\" font-size=\"11\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(12 \(f(top + plotH / 2))) rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        if diagonal {
            s += "<line x1=\"\(f(px(x.lowerBound)))\" y1=\"\(f(py(y.lowerBound)))\" x2=\"\(f(px(x.upperBound)))\" y2=\"\(f(py(y.upperBound)))\" stroke=\"#999\" stroke-dasharray=\"2 3\"/>\n"
        }
        for line in series {
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            if line.dots {
                for p in line.points where p.x.isFinite && p.y.isFinite && x.contains(p.x) && y.contains(p.y) {
                    s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(line.color)\"/>"
                }
                s += "\n"
                continue
            }
            // A non-finite point ends one polyline; the next finite one starts another.
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    s += "<polyline clip-path=\"url(#\(clip))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.6\"\(dash) points=\"\(run.joined(separator: " "))\"/>\n"
                }
                run = []
            }
            for p in line.points {
                if p.x.isFinite && p.y.isFinite { run.append("\(f(px(p.x))),\(f(py(p.y)))") } else { flush() }
            }
            flush()
        }
        for (i, line) in legend.enumerated() {
            let lx = left + Double(i % 2) * plotW / 2, ly = Double(height) + Double(i / 2) * 16 + 10
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 18))\" y2=\"\(f(ly - 4))\" stroke=\"\(line.color)\" stroke-width=\"2\"\(dash)/>"
            s += "<text x=\"\(f(lx + 22))\" y=\"\(f(ly))\" font-size=\"10\">\(escape(line.name))</text>\n"
        }
        return s + "</svg>"
    }

    /// 16 hex digits of the FNV-1a hash of `text`.
    static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// About five round tick values (steps of 1, 2 or 5 × 10ⁿ; with `integer`, at least 1) within `range`.
    static func ticks(_ range: ClosedRange<Double>, integer: Bool = false) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let nice = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!, step = integer ? max(nice, 1) : nice
        var out: [Double] = [], t = (range.lowerBound / step).rounded(.up) * step
        while t <= range.upperBound + step * 1e-9 { out.append(t); t += step }
        return out
    }

    /// A tick label with no more digits than it needs ("0.95", "10", "0.001").
    static func label(_ v: Double) -> String {
        if abs(v) < 1e-12 { return "0" }
        var text = String(format: "%.4f", v)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
