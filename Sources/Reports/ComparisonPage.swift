import Classifier
import Foundation

/// The page of `smear compare`: one self-contained HTML file (inline SVG and CSS, no script, no
/// network) that shows several recipes' cross-validation side by side — the figures with their
/// spread over folds, pooled ROC (whole and at low false-positive rates), precision–recall and
/// reliability curves, confusion matrices, the worst groups and every fold's training curves.
public struct ComparisonPage {
    public let comparison: ModelComparison

    public init(_ comparison: ModelComparison) { self.comparison = comparison }

    public func html() -> String {
        let c = comparison
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>smear compare: \(escape(c.dataset))</title>
            <style>
            body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1400px; padding: 0 1rem; color: #222; }
            .scroll { overflow-x: auto; }
            h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; margin: .5rem 0; } th, td { font-size: 13px; padding: .25rem .45rem; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
            th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 8ch; max-width: 28ch; } th { background: #f5f5f5; }
            .charts { display: flex; flex-wrap: wrap; gap: 1rem; } .chart { background: #fff; }
            .swatch { display: inline-block; width: .8em; height: .8em; margin-right: .35em; border-radius: 2px; }
            .spec { font: 12px ui-monospace, monospace; color: #555; max-width: 60ch; word-break: break-word; }
            .cm td { width: 6.5em; text-align: center; } .note { color: #555; max-width: 80ch; }
            .best { font-weight: 700; }
            </style></head><body>
            <h1>Model comparison by grouped \(c.folds)-fold cross-validation</h1>
            <p class="note">Data set <code>\(escape(c.dataset))</code>: \(grouped(Double(c.images))) images of \(c.classNames.map(escape).joined(separator: ", ")) \
            in \(c.groups) groups (patients or field groups), dealt into \(c.folds) folds that never split a group. Every recipe was \
            trained on the same folds; each image was predicted once, by the model that did not see its group. Figures are the mean \
            ± standard deviation over folds; curves pool all out-of-fold predictions\(c.positiveClass.map { " of the positive class, \(escape($0))" } ?? "").</p>

            """
        h += figuresTable()
        h += curvesSection()
        h += confusionSection()
        h += worstGroupsSection()
        h += trainingSection()
        return h + "</body></html>\n"
    }

    func color(_ i: Int) -> String { SVGChart.palette[i % SVGChart.palette.count] }

    func figuresTable() -> String {
        let c = comparison
        func spread(_ v: CrossValidation.Spread?, percent: Bool) -> String {
            guard let v else { return "–" }
            return percent ? String(format: "%.2f ± %.2f", 100 * v.mean, 100 * v.sd) : String(format: "%.4f ± %.4f", v.mean, v.sd)
        }
        // The best mean of each column is in bold.
        let columns: [(String, Bool, (CrossValidation.Summary) -> CrossValidation.Spread?)] = [
            ("accuracy %", true, \.accuracy), ("precision %", true, \.precision), ("recall %", true, \.sensitivity),
            ("F1", false, \.f1), ("ROC AUC", false, \.auc),
        ]
        var h = "<h2>Figures</h2>\n<div class=\"scroll\"><table>\n<tr><th>recipe</th>" + columns.map { "<th>\($0.0)</th>" }.joined()
            + "<th>avg. precision</th><th>ECE</th><th>parameters</th><th>file</th><th>cells/s</th><th>training</th></tr>\n"
        for (i, m) in c.candidates.enumerated() {
            h += "<tr><td><span class=\"swatch\" style=\"background:\(color(i))\"></span>\(escape(m.name))</td>"
            for (_, percent, key) in columns {
                let best = c.candidates.compactMap { key($0.summary)?.mean }.max()
                let mine = key(m.summary)?.mean
                h += "<td\(mine != nil && mine == best && c.candidates.count > 1 ? " class=\"best\"" : "")>\(spread(key(m.summary), percent: percent))</td>"
            }
            h += "<td>\(m.averagePrecision.map { String(format: "%.4f", $0) } ?? "–")</td>"
            h += "<td>\(m.summary.ece.map { String(format: "%.4f", $0) } ?? "–")</td>"
            h += "<td>\(grouped(Double(m.parameters)))</td><td>\(String(format: "%.1f kB", Double(m.modelBytes) / 1000))</td>"
            h += "<td>\(grouped(m.imagesPerSecond))</td><td>\(String(format: "%.0f min", m.trainingSeconds / 60))</td></tr>\n"
        }
        h += "</table></div>\n<p class=\"note\">Recall is the sensitivity to the positive class. ECE: expected calibration error of the pooled probabilities in ten bins. cells/s: classifying a held-out fold in batches of 256 on all threads (median of the folds). Training: all folds together. The best mean of each figure is in bold; a difference smaller than the spread is not one to act on.</p>\n"
        for (i, m) in c.candidates.enumerated() {
            h += "<p class=\"spec\"><span class=\"swatch\" style=\"background:\(color(i))\"></span><b>\(escape(m.name))</b>: \(escape(m.spec))<br>\(escape(m.recipe))</p>\n"
        }
        return h
    }

    func curvesSection() -> String {
        let c = comparison
        func series(_ pick: (ModelComparison.Candidate) -> [Curves.Point]?) -> [SVGChart.Series] {
            c.candidates.enumerated().compactMap { i, m in
                pick(m).map { SVGChart.Series(name: m.name, color: color(i), points: $0.map { ($0.x, $0.y) }) }
            }
        }
        let roc = series(\.roc), pr = series(\.precisionRecall)
        guard !roc.isEmpty || !pr.isEmpty else { return "" }
        var h = "<h2>Curves (pooled out-of-fold)</h2>\n<div class=\"charts\">\n"
        h += SVGChart(title: "ROC", xLabel: "false-positive rate", yLabel: "true-positive rate", x: 0...1, y: 0...1, series: roc,
                      diagonal: true).svg()
        h += SVGChart(title: "ROC at low false-positive rates", xLabel: "false-positive rate", yLabel: "true-positive rate",
                      x: 0...0.1, y: 0.7...1, series: roc).svg()
        h += SVGChart(title: "Precision–recall", xLabel: "recall", yLabel: "precision", x: 0...1, y: 0...1, series: pr).svg()
        let reliability = c.candidates.enumerated().compactMap { i, m in
            m.summary.reliability.map { bins in
                SVGChart.Series(name: m.name + (m.summary.ece.map { String(format: " (ECE %.3f)", $0) } ?? ""), color: color(i),
                                points: bins.compactMap { b in b.meanPredicted.flatMap { p in b.observed.map { (p, $0) } } })
            }
        }
        h += SVGChart(title: "Reliability", xLabel: "predicted probability", yLabel: "observed fraction positive", x: 0...1, y: 0...1,
                      series: reliability, diagonal: true).svg()
        return h + "\n</div>\n<p class=\"note\">ROC at low false-positive rates matters most for parasitemia: at 1.5 % prevalence every 0.1 % of uninfected cells called parasitized adds about 0.1 point. Reliability: each point is one tenth of the probability range; points on the diagonal mean a probability of p is right a fraction p of the time.</p>\n"
    }

    func confusionSection() -> String {
        let c = comparison
        var h = "<h2>Confusion matrices (pooled out-of-fold; rows: true class, columns: predicted)</h2>\n<div class=\"charts\">\n"
        for m in c.candidates {
            let cm = m.summary.pooled.confusion
            h += "<table class=\"cm\"><tr><th>\(escape(m.name))</th>" + c.classNames.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for (t, row) in cm.enumerated() {
                let total = max(row.reduce(0, +), 1)
                h += "<tr><th>\(escape(c.classNames[t]))</th>"
                for (p, n) in row.enumerated() {
                    let share = Double(n) / Double(total)
                    let tint = p == t ? String(format: "rgba(0,114,178,%.2f)", 0.1 + 0.5 * share) : String(format: "rgba(213,94,0,%.2f)", min(0.6, 4 * share))
                    h += "<td style=\"background:\(tint)\">\(grouped(Double(n)))<br><small>\(String(format: "%.2f %%", 100 * share))</small></td>"
                }
                h += "</tr>\n"
            }
            h += "</table>\n"
        }
        return h + "</div>\n"
    }

    func worstGroupsSection() -> String {
        let c = comparison
        var h = "<h2>Worst groups</h2>\n<p class=\"note\">The five groups each recipe gets most wrong, and the figures per source.</p>\n<div class=\"charts\">\n"
        for m in c.candidates {
            h += "<table><tr><th>\(escape(m.name))</th><th>accuracy</th><th>wrong</th><th>positive</th></tr>\n"
            for g in m.summary.groups.prefix(5) {
                h += "<tr><td>\(escape(g.name))</td><td>\(String(format: "%.1f %%", 100 * g.accuracy))</td><td>\(g.errors) of \(g.images)</td><td>\(g.positives)</td></tr>\n"
            }
            for s in m.summary.sources where m.summary.sources.count > 1 || s.name != "other" {
                h += "<tr><td><i>\(escape(s.name))</i></td><td>\(String(format: "%.2f %%", 100 * s.accuracy))</td><td>\(s.errors) of \(s.images)</td><td>\(s.positives)</td></tr>\n"
            }
            h += "</table>\n"
        }
        return h + "</div>\n"
    }

    func trainingSection() -> String {
        let c = comparison
        var h = "<h2>Training curves per fold</h2>\n<p class=\"note\">Solid: the held-out fold (looked at only; it chose nothing). Dashed: the training batches, with augmentation and dropout. One colour per fold.</p>\n"
        for m in c.candidates {
            var loss: [SVGChart.Series] = [], accuracy: [SVGChart.Series] = []
            var maxEpoch = 1.0, maxLoss = 0.1, minAccuracy = 1.0
            for (k, curve) in m.curves.enumerated() {
                let col = color(k)
                loss.append(.init(name: "fold \(k + 1)", color: col, points: curve.map { (Double($0.epoch), $0.heldOutLoss) }))
                loss.append(.init(name: "", color: col, points: curve.map { (Double($0.epoch), $0.trainLoss) }, dashed: true))
                accuracy.append(.init(name: "fold \(k + 1)", color: col, points: curve.map { (Double($0.epoch), $0.heldOutAccuracy) }))
                accuracy.append(.init(name: "", color: col, points: curve.map { (Double($0.epoch), $0.trainAccuracy) }, dashed: true))
                for p in curve {
                    maxEpoch = max(maxEpoch, Double(p.epoch))
                    for v in [p.trainLoss, p.heldOutLoss] where v.isFinite { maxLoss = max(maxLoss, v) }
                    for v in [p.trainAccuracy, p.heldOutAccuracy] where v.isFinite { minAccuracy = min(minAccuracy, v) }
                }
            }
            let xRange = 1...max(maxEpoch, 2), floorAccuracy = max(0, (minAccuracy * 20).rounded(.down) / 20)
            h += "<h3>\(escape(m.name))</h3>\n<div class=\"charts\">\n"
            h += SVGChart(title: "\(m.name): loss", xLabel: "epoch", yLabel: "cross-entropy", x: xRange, y: 0...min(maxLoss, 2),
                          series: loss, integerX: true, width: 520, height: 280).svg()
            h += SVGChart(title: "\(m.name): accuracy", xLabel: "epoch", yLabel: "accuracy", x: xRange, y: min(floorAccuracy, 0.95)...1,
                          series: accuracy, integerX: true, width: 520, height: 280).svg()
            h += "\n</div>\n"
        }
        return h
    }
}
