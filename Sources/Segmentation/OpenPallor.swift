/// Completing red cells whose pale centre opens to the background.

/// Gives each crescent-shaped region its convex hull, taking the background pixels inside the hull
/// and those of regions smaller than `maxAbsorbedArea` pixels (never a larger region's). A red cell
/// with a wide central pallor stains only as a ring, and where the ring is broken the pallor is not a
/// hole that `fillHoles` closes: the cell is segmented as a crescent whose mask leaves out the cell's
/// centre and interior, where a parasite would be (the pale part often makes small pieces of its own
/// there, which give up their pixels in the hull). A region is a crescent when its area is below
/// `maxSolidity` of its hull's and the hull is the size of one cell (`minHullArea…maxHullArea`
/// pixels): a clump of cells has a larger hull, a speck a smaller one. Regions `1…labels.count`; the
/// count is unchanged, and a region that gave up all its pixels is left empty (`mergeEnclosed`
/// renumbers). Cost: one pass for the region measures, then O(box · hull vertices) per crescent.
func fillOpenPallors(_ labels: LabelImage, maxSolidity: Double, minHullArea: Double, maxHullArea: Double, maxAbsorbedArea: Double) -> LabelImage {
    let regions = RegionProperties(labels)
    var out = labels
    let w = labels.width
    for l in 1..<(labels.count + 1) where regions[l].area > 0 {
        let region = regions[l]
        let hull = convexHull(rows: [rowExtents(labels, l, region)])
        let hullArea = polygonArea(hull)
        guard hullArea >= minHullArea, hullArea <= maxHullArea, Double(region.area) < maxSolidity * hullArea else { continue }
        // Pixel centres inside the hull (on the positive side of every edge); the hull lies within the box.
        for y in region.y0...region.y1 {
            for x in region.x0...region.x1 {
                let other = Int(out.labels[y * w + x])
                guard other == 0 || (other != l && Double(regions[other].area) < maxAbsorbedArea) else { continue }
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                var inside = true
                for i in hull.indices {
                    let a = hull[i], b = hull[(i + 1) % hull.count]
                    if (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x) < 0 { inside = false; break }
                }
                if inside { out.labels[y * w + x] = Int32(l) }
            }
        }
    }
    return out
}

/// Merges each region smaller than `maxArea` pixels that lies wholly inside one other region (every
/// pixel next to it, 4-connected, is that region's; none is background or off the image) into that
/// region, then renumbers labels `1…count` in raster order, dropping labels with no pixels: the
/// stained centre of a target cell, or a spot of stain within a cell's pallor, is part of the cell
/// around it. Cost: two passes.
func mergeEnclosed(_ labels: LabelImage, maxArea: Double) -> LabelImage {
    let w = labels.width, h = labels.height
    // enclosing[a]: 0 while no neighbour of a is seen, the one neighbouring label, or −1 when a
    // touches background, the image edge or two labels.
    var enclosing = [Int32](repeating: 0, count: labels.count + 1)
    var area = [Int](repeating: 0, count: labels.count + 1)
    for y in 0..<h {
        for x in 0..<w {
            let a = labels.labels[y * w + x]
            guard a != 0 else { continue }
            area[Int(a)] += 1
            guard enclosing[Int(a)] != -1 else { continue }
            @inline(__always) func meet(_ b: Int32) {
                if b == a || enclosing[Int(a)] == -1 { return }
                enclosing[Int(a)] = b == 0 || (enclosing[Int(a)] != 0 && enclosing[Int(a)] != b) ? -1 : b
            }
            meet(x > 0 ? labels.labels[y * w + x - 1] : 0)
            meet(x + 1 < w ? labels.labels[y * w + x + 1] : 0)
            meet(y > 0 ? labels.labels[(y - 1) * w + x] : 0)
            meet(y + 1 < h ? labels.labels[(y + 1) * w + x] : 0)
        }
    }
    var sets = DisjointSets(count: labels.count + 1)
    for a in 1..<(labels.count + 1) where enclosing[a] > 0 && Double(area[a]) < maxArea {
        sets.union(Int(enclosing[a]), a)
    }
    var out = labels
    sets.relabel(&out)
    return out
}
