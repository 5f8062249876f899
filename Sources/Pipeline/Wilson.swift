import Foundation

/// Wilson score interval for a binomial proportion `successes / trials` at normal quantile `z`
/// (1.959964 for 95%). Unlike the textbook ± 1.96·√(p(1−p)/n), it stays inside [0, 1] and is not
/// empty at 0 or n successes — which matters at low parasitemia. `nil` without trials.
public func wilsonInterval(successes: Int, trials: Int, z: Double = 1.959964) -> (lower: Double, upper: Double)? {
    guard trials > 0 else { return nil }
    let n = Double(trials), p = Double(successes) / n, z2 = z * z
    let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
    return (max(0, centre - half), min(1, centre + half))
}
