import { readFileSync } from 'node:fs';
import { subjectFace, qualityFailure, euclidean } from '@facepipe/face-index';
const photos = readFileSync(process.argv[2],'utf8').split('\n').filter(Boolean).map(l=>JSON.parse(l));
const h = (s) => { let x = 2166136261; for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619) >>> 0; return x; };
const byP = new Map(); for (const p of photos) { if (!byP.has(p.person)) byP.set(p.person, []); byP.get(p.person).push(p); }
const enrolled = [...byP].filter(([,ps]) => ps.filter(p=>p.faces.length).length >= 10).map(([n])=>n).sort((a,b)=>h(a)-h(b)||(a<b?-1:1)).slice(0,20);
const E = new Set(enrolled);
const ex = []; const enr = new Set();
for (const n of enrolled) for (const p of byP.get(n).filter(p=>p.faces.length).sort((a,b)=>a.file<b.file?-1:1).slice(0,5)) { enr.add(p); ex.push({n, e: p.faces[subjectFace(p)].embedding}); }
const rows = [];
for (const p of photos) { if (enr.has(p) || !p.faces.length) continue; const f = p.faces[subjectFace(p)];
  const d = ex.map(x=>({n:x.n, d: euclidean(f.embedding, x.e)})).sort((a,b)=>a.d-b.d);
  const best = d[0].n; const own = d.filter(x=>x.n===best).map(x=>x.d); const other = d.find(x=>x.n!==best).d;
  rows.push({ stranger: !E.has(p.person), right: p.person===best, d1: own[0], d2: own[1], d3: own[2], mean3: (own[0]+own[1]+own[2])/3, other, q: qualityFailure(f,p)===null }); }
const S = rows.filter(r=>r.stranger).length, N = rows.length - S;
console.log('strangers', S, 'enrolled', N);
const test = (name, fn) => { const s = rows.filter(r=>r.stranger && fn(r)).length; const e = rows.filter(r=>!r.stranger && r.right && fn(r)).length; const w = rows.filter(r=>!r.stranger && !r.right && fn(r)).length; console.log(name.padEnd(40), 'strangers', s, (100*s/S).toFixed(2)+'%', 'right', (100*e/N).toFixed(2)+'%', 'wrong', w); };
for (const t of [0.4,0.42,0.44,0.46,0.48,0.5]) test(`d1<=${t}`, r=>r.d1<=t);
for (const t of [0.44,0.46,0.48,0.5,0.52]) for (const t2 of [0.5, 0.52,0.55]) test(`d1<=${t} d2<=${t2}`, r=>r.d1<=t && r.d2<=t2);
for (const t of [0.44,0.46,0.48,0.5,0.52]) test(`mean3<=${t}`, r=>r.mean3<=t);
for (const t of [0.46,0.48,0.5]) for (const m of [0.05,0.08,0.1]) test(`d1<=${t} other-d1>=${m}`, r=>r.d1<=t && r.other-r.d1>=m);
for (const t of [0.48,0.5,0.52]) for (const m of [0.05,0.08,0.1]) test(`mean3<=${t} other-mean3>=${m}`, r=>r.mean3<=t && r.other-r.d1>=m);
for (const t of [0.5,0.52,0.55,0.58]) for (const m of [0.05,0.08,0.1]) test(`d2<=${t} other-d1>=${m}`, r=>r.d2<=t && r.other-r.d1>=m);
for (const t of [0.5,0.55,0.58]) test(`suggest d1<=${t}`, r=>r.d1<=t);
