import { readFileSync } from 'node:fs';
import { subjectFace, qualityFailure, euclidean } from '@facepipe/face-index';
const photos = readFileSync(process.argv[2],'utf8').split('\n').filter(Boolean).map(l=>JSON.parse(l));
const subj = photos.map(p=>({p, f: p.faces[subjectFace(p)]})).filter(s=>s.f);
const reasons = {};
for (const s of subj) { const r = qualityFailure(s.f, s.p); reasons[r] = (reasons[r]??0)+1; }
console.log(reasons);
const q = subj.map(s=>s.f.quality).filter(Boolean);
const pctl = (a, p) => { const b=[...a].sort((x,y)=>x-y); return b[Math.floor(p*(b.length-1))]; };
for (const k of ['sharpness','yaw','shapeResidual']) console.log(k, [0.01,0.05,0.1,0.5,0.9,0.95,0.99].map(p=>pctl(q.map(x=>Math.abs(x[k])),p)));
console.log('score', [0.01,0.05,0.1,0.5].map(p=>pctl(subj.map(s=>s.f.score),p)), 'size', [0.01,0.05,0.1,0.5].map(p=>pctl(subj.map(s=>Math.min(s.f.box[2],s.f.box[3])),p)));
