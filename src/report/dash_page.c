/*
 * dash_page.c — the dashboard's one page (see dash.h).
 *
 * Self-contained: the HTML report's style sheet (html_style_sheet), an
 * inline script and inline SVG; it loads nothing else (the server's
 * Content-Security-Policy forbids it too). The script long-polls
 * /data?from=N&wait=1, keeps every row it got, and redraws: the verdict
 * box (live thresholds; the final verdict once the run ended), cards,
 * latency p50/p99/max per second on a log axis with gaps for seconds
 * without responses, sent/done/errors against the intended rate,
 * in-flight and connections, outcomes, chaos windows shaded on every
 * chart, and one chart per scraped series when the feed has "scrape".
 * When the feed says "ended", or the server is gone (salvo exited), the
 * page stops polling and keeps what it shows, marked "run ended". Every
 * string from the feed is escaped before it reaches markup.
 */
#include <stdlib.h>
#include <string.h>

#include "report/dash.h"
#include "report/html_sections.h"

static const char page_head[] = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                                "<title>salvo live</title>\n<style>\n";

static const char page_css[] =
    ".live{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#dbeafe;color:#1d4ed8;"
    "margin-left:8px;vertical-align:middle}.live.ended{background:#e5e7eb;color:#374151}\n"
    ".verdict.running{background:#eff6ff;border-color:#bfdbfe}.verdict.running strong{color:#1d4ed8}\n"
    "</style>\n</head>\n";

static const char page_body[] =
    "<body>\n<main>\n<header>\n<h1>salvo live <span id=\"live\" class=\"live\">connecting</span></h1>\n"
    "<p id=\"run\" class=\"muted\">waiting for the first second…</p>\n</header>\n"
    "<section class=\"result\">\n"
    "<div id=\"verdict\" class=\"verdict running\"><strong id=\"verdict-word\">STARTING</strong> "
    "<span id=\"verdict-note\"></span><ul id=\"thr\"></ul></div>\n"
    "<div class=\"cards\">\n"
    "<div class=\"card\"><b id=\"elapsed\" data-v=\"0\">0 s</b><span>elapsed</span></div>\n"
    "<div class=\"card\"><b id=\"p50\">—</b><span>latency p50 (so far)</span></div>\n"
    "<div class=\"card\"><b id=\"p99\">—</b><span>latency p99 (so far)</span></div>\n"
    "<div class=\"card\"><b id=\"rate\">—</b><span id=\"rate-of\">achieved rate (last second)</span></div>\n"
    "<div class=\"card\"><b id=\"sent\" data-v=\"0\">0</b><span>requests sent</span></div>\n"
    "<div class=\"card\" id=\"errors-card\"><b id=\"errors\" data-v=\"0\">0</b><span>errors</span></div>\n"
    "<div class=\"card\"><b id=\"inflight\">0</b><span>in flight</span></div>\n"
    "</div>\n<div class=\"grid2\">\n"
    "<figure><figcaption>Latency per second</figcaption><svg id=\"ch-lat\" class=\"chart\" viewBox=\"0 0 640 250\" "
    "role=\"img\"></svg></figure>\n"
    "<figure><figcaption>Rate: achieved vs intended</figcaption><svg id=\"ch-rate\" class=\"chart\" "
    "viewBox=\"0 0 640 250\" role=\"img\"></svg></figure>\n"
    "<figure><figcaption>Concurrency</figcaption><svg id=\"ch-conc\" class=\"chart\" viewBox=\"0 0 640 250\" "
    "role=\"img\"></svg></figure>\n"
    "<figure><figcaption>Outcomes</figcaption><div id=\"outcomes\"></div></figure>\n"
    "</div>\n<div id=\"scrape\"></div>\n"
    "<p class=\"note\" id=\"status\">Updates every second from salvo's per-second data.</p>\n"
    "</section>\n<footer>salvo live dashboard: one page, no external resources. It stops updating when the run "
    "ends and keeps its last state.</footer>\n</main>\n";

static const char page_script[] =
    "<script>\n"
    "'use strict';\n"
    "const W=640,H=250,L=58,R=12,T=22,B=28;\n"
    "let rows=[],run=null,state=null,scrape=null,ended=false,fails=0;\n"
    "const $=id=>document.getElementById(id);\n"
    "function esc(s){return String(s).replace(/[&<>\"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;',"
    "\"'\":'&#39;'}[c]));}\n"
    "function fus(us){if(us==null||!isFinite(us))return '—';if(us<1000)return (+us.toPrecision(3))+' µs';"
    "if(us<1e6)return (+(us/1e3).toPrecision(3))+' ms';return (+(us/1e6).toPrecision(3))+' s';}\n"
    "function fnum(n){if(n==null||!isFinite(n))return '—';if(Math.abs(n)>=1e6)return (+(n/1e6).toPrecision(3))+'M';"
    "if(Math.abs(n)>=1e4)return (+(n/1e3).toPrecision(3))+'k';return String(Math.round(n*10)/10);}\n"
    "function set(id,text,v){const e=$(id);e.textContent=text;if(v!==undefined)e.dataset.v=v;}\n"
    /* one chart: series [{cls,name,pts:[[x,y|null]]}], o: {log, xmax, hl:[{y,label}], fmt} */
    "function chart(svg,series,o){\n"
    " const xmax=Math.max(o.xmax||1,1);let ys=[];\n"
    " series.forEach(s=>s.pts.forEach(p=>{if(p[1]!=null&&isFinite(p[1]))ys.push(p[1]);}));\n"
    " (o.hl||[]).forEach(h=>ys.push(h.y));\n"
    " let lo,hi;\n"
    " if(o.log){ys=ys.filter(y=>y>0);lo=ys.length?Math.pow(10,Math.floor(Math.log10(Math.min(...ys)))):1;"
    "hi=ys.length?Math.pow(10,Math.ceil(Math.log10(Math.max(...ys)*1.01))):10;if(hi<=lo)hi=lo*10;}\n"
    " else{lo=0;hi=ys.length?Math.max(...ys)*1.1:1;if(hi<=0)hi=1;}\n"
    " const X=x=>L+(W-L-R)*x/xmax;\n"
    " const Y=y=>o.log?H-B-(H-B-T)*(Math.log10(Math.max(y,lo))-Math.log10(lo))/(Math.log10(hi)-Math.log10(lo))"
    ":H-B-(H-B-T)*(y-lo)/(hi-lo);\n"
    " let g='<rect class=\"plot-bg\" x=\"'+L+'\" y=\"'+T+'\" width=\"'+(W-L-R)+'\" height=\"'+(H-B-T)+'\"/>';\n"
    " (run&&run.chaos||[]).forEach(c=>{const x0=X(Math.min(c.start_s,xmax)),x1=X(Math.min(c.end_s,xmax));"
    "g+='<rect class=\"band-chaos\" x=\"'+x0+'\" y=\"'+T+'\" width=\"'+Math.max(x1-x0,1)+'\" height=\"'+(H-B-T)+"
    "'\"><title>'+esc(c.action)+'</title></rect><text class=\"band-label\" x=\"'+(x0+3)+'\" y=\"'+(T+12)+'\">'+"
    "esc(c.action)+'</text>';});\n"
    " let ticks=[];if(o.log){for(let v=lo;v<=hi*1.001;v*=10)ticks.push(v);}else{for(let i=0;i<=4;i++)"
    "ticks.push(lo+(hi-lo)*i/4);}\n"
    " ticks.forEach(v=>{const y=Y(v);g+='<line class=\"grid\" x1=\"'+L+'\" x2=\"'+(W-R)+'\" y1=\"'+y+'\" y2=\"'+y+"
    "'\"/><text class=\"tick\" x=\"'+(L-4)+'\" y=\"'+(y+4)+'\" text-anchor=\"end\">'+esc(o.fmt(v))+'</text>';});\n"
    " const step=Math.max(1,Math.ceil(xmax/8));for(let x=0;x<=xmax;x+=step)g+='<text class=\"tick\" x=\"'+X(x)+"
    "'\" y=\"'+(H-B+14)+'\" text-anchor=\"middle\">'+x+'s</text>';\n"
    " (o.hl||[]).forEach(h=>{const y=Y(h.y);g+='<line class=\"'+(h.cls||'ref-intended')+'\" x1=\"'+L+'\" x2=\"'+"
    "(W-R)+'\" y1=\"'+y+'\" y2=\"'+y+'\" stroke=\"#6b7280\"/><text class=\"hline-label\" x=\"'+(W-R-4)+'\" y=\"'+"
    "(y-4)+'\" text-anchor=\"end\">'+esc(h.label)+'</text>';});\n"
    " let lx=L;series.forEach(s=>{let d='',pen=false;s.pts.forEach(p=>{if(p[1]==null||!isFinite(p[1])||"
    "(o.log&&p[1]<=0)){pen=false;return;}d+=(pen?'L':'M')+X(p[0]).toFixed(1)+' '+Y(p[1]).toFixed(1);pen=true;});\n"
    "  g+='<path class=\"line '+s.cls+'\" d=\"'+d+'\"/>';g+='<g class=\"'+s.cls+'\"><rect x=\"'+lx+'\" y=\"4\" "
    "width=\"10\" height=\"10\" fill=\"var(--c)\"/></g><text class=\"legend\" x=\"'+(lx+14)+'\" y=\"13\">'+"
    "esc(s.name)+'</text>';lx+=24+8*s.name.length;});\n"
    " g+='<rect class=\"frame\" x=\"'+L+'\" y=\"'+T+'\" width=\"'+(W-L-R)+'\" height=\"'+(H-B-T)+'\"/>';\n"
    " svg.innerHTML=g;}\n"
    "function pts(key,only){return (only||rows).map(r=>[r.t+1,r[key]==null?null:r[key]]);}\n"
    /* the rows of the send phase: the last row is the drain, which would read as a collapse to 0/s */
    "function sendRows(){const n=run?Math.ceil(run.duration_s-1e-9):Infinity;return rows.filter(r=>r.t<n);}\n"
    "function thrLine(t){const mark=t.pass===true?'✓':t.pass===false?'✗':'…';const cls=t.pass===true?'ok':"
    "t.pass===false?'bad':'muted';let obs='';if(t.observed!=null)obs=' (observed '+(t.unit==='us'||"
    "/^(latency|service_time|wait|ttfb|connect|send_lag)/.test(t.expr)&&t.unit==null?fus(t.observed):"
    "fnum(t.observed))+')';"
    "return '<li class=\"'+cls+'\">'+mark+' '+esc(t.expr)+esc(obs)+(t.pass==null?' — judged at the end':'')+"
    "'</li>';}\n"
    "function drawVerdict(){\n"
    " const v=$('verdict'),s=state||{};let word=s.verdict||'STARTING',note='',cls='running';\n"
    " const thr=s.thresholds||[];const failed=thr.filter(t=>t.pass===false).length;\n"
    " if(s.ended){cls=word==='PASS'?'valid':word==='INVALID'?'invalid':'failed';"
    "note='run ended · exit '+s.exit_code;if(s.runtime_error)note+=' · '+s.runtime_error;"
    "if(s.invalid_reasons&&s.invalid_reasons.length)note+=' · '+s.invalid_reasons.join('; ');}\n"
    " else{note=thr.length?(failed?failed+' of '+thr.length+' thresholds failing so far':'thresholds holding so far')"
    ":'no thresholds';if(s.late_seconds)note+=' · the generator was late in '+s.late_seconds+' s (the run may end "
    "INVALID)';}\n"
    " v.className='verdict '+cls;set('verdict-word',word);set('verdict-note',note);"
    "$('thr').innerHTML=thr.map(thrLine).join('');}\n"
    "function drawCards(){\n"
    " const s=state||{},sr=sendRows(),last=sr.length?sr[sr.length-1]:null,lat=s.latency_us||{},tot=s.totals||{};\n"
    " set('elapsed',(s.elapsed_s!=null?(+(+s.elapsed_s).toFixed(1)):rows.length)+' s',rows.length);\n"
    " set('p50',fus(lat.p50));set('p99',fus(lat.p99));\n"
    " if(last){set('rate',fnum(last.done)+'/s');set('rate-of','achieved, last second'+(last.intended>0?' (of '+"
    "fnum(last.intended)+'/s)':''));set('inflight',fnum(last.inflight));}\n"
    " set('sent',fnum(tot.sent||0),tot.sent||0);set('errors',fnum(tot.errors||0),tot.errors||0);\n"
    " $('errors-card').className='card'+((tot.errors||0)>0?' bad':'');}\n"
    "function drawOutcomes(){\n"
    " const s=state||{},q=s.requests;let h='<table><tbody>';\n"
    " if(q){['ok','http_error','check_failed','failed','timeout','unsent'].forEach(k=>{if(q[k]!=null)h+='<tr><th>"
    "<i class=\"key o-'+k+'\"></i>'+k+'</th><td class=\"num\">'+fnum(q[k])+'</td></tr>';});h+='<tr class=\"total\">"
    "<th>scheduled</th><td class=\"num\">'+fnum(q.scheduled)+'</td></tr>';}\n"
    " else{const t=s.totals||{};const ok=Math.max((t.done||0)-(t.errors||0),0);h+='<tr><th><i class=\"key o-ok\">"
    "</i>ok</th><td class=\"num\">'+fnum(ok)+'</td></tr><tr><th><i class=\"key o-failed\"></i>errors</th>"
    "<td class=\"num\">'+fnum(t.errors||0)+'</td></tr><tr><th>sent</th><td class=\"num\">'+fnum(t.sent||0)+"
    "'</td></tr><tr><th>in flight</th><td class=\"num\">'+(rows.length?fnum(rows[rows.length-1].inflight):0)+"
    "'</td></tr>';}\n"
    " $('outcomes').innerHTML=h+'</tbody></table>';}\n"
    "function draw(){\n"
    " const xmax=Math.max(rows.length,run?Math.ceil(run.duration_s):1);\n"
    " if(run)set('run',[run.method,run.url,run.model==='closed'?'closed model ('+run.connections+' conns)':"
    "(run.stages?'ramp':fnum(run.rate)+'/s'),'for '+run.duration_s+' s',run.threads+' threads'].join(' · '));\n"
    " drawVerdict();drawCards();drawOutcomes();\n"
    " chart($('ch-lat'),[{cls:'s-p50',name:'p50',pts:pts('p50_us')},{cls:'s-p99',name:'p99',pts:pts('p99_us')},"
    "{cls:'s-max',name:'max',pts:pts('max_us')}],{log:true,xmax:xmax,fmt:fus});\n"
    " const sr=sendRows(),rs=[{cls:'s-sent',name:'sent',pts:pts('sent',sr)},{cls:'s-done',name:'done',"
    "pts:pts('done',sr)}];\n"
    " if(sr.some(r=>r.errors>0))rs.push({cls:'s-err',name:'errors',pts:pts('errors',sr)});\n"
    " if(run&&run.model!=='closed')rs.push({cls:'s-intended',name:'intended',pts:pts('intended',sr)});\n"
    " chart($('ch-rate'),rs,{xmax:xmax,fmt:fnum});\n"
    " chart($('ch-conc'),[{cls:'s-inflight',name:'in flight',pts:pts('inflight')},{cls:'s-conns',name:"
    "'connections',pts:pts('conns')}],{xmax:xmax,fmt:fnum});\n"
    " drawScrape(xmax);}\n"
    "function drawScrape(xmax){\n"
    " const box=$('scrape');if(!Array.isArray(scrape)||!scrape.length){box.innerHTML='';return;}\n"
    " if(box.childElementCount!==scrape.length){box.className='grid2';box.innerHTML=scrape.map((s,i)=>"
    "'<figure><figcaption>'+esc(s.name)+(s.unit?' ('+esc(s.unit)+')':'')+'</figcaption><svg id=\"ch-scrape-'+i+"
    "'\" class=\"chart\" viewBox=\"0 0 640 250\"></svg></figure>').join('');}\n"
    " scrape.forEach((s,i)=>chart($('ch-scrape-'+i),[{cls:'c'+(1+i%8),name:String(s.name),pts:(s.points||[]).map("
    "p=>[p[0],p[1]])}],{xmax:xmax,fmt:fnum}));}\n"
    "function finish(why){ended=true;const e=$('live');e.textContent='run ended';e.className='live ended';"
    "if(!(state&&state.ended)){set('verdict-word','ENDED');set('verdict-note','salvo exited before this page got "
    "its final verdict: see its output');}"
    "set('status','Run ended: '+why+'. This page keeps its last state.');}\n"
    "async function poll(){\n"
    " while(!ended){\n"
    "  try{\n"
    "   const r=await fetch('/data?from='+rows.length+'&wait=1',{cache:'no-store'});\n"
    "   if(!r.ok)throw new Error('HTTP '+r.status);\n"
    "   const d=await r.json();fails=0;\n"
    "   if(d.from!==rows.length)rows=rows.slice(0,d.from);\n"
    "   rows=rows.concat(d.rows||[]);run=d.run;state=d.state;if(d.scrape)scrape=d.scrape;\n"
    "   if(!ended){const e=$('live');e.textContent='live';}\n"
    "   draw();document.body.dataset.rows=rows.length;\n"
    "   if(d.ended){finish('salvo has the final verdict');break;}\n"
    "  }catch(err){\n"
    "   if(++fails>=2){finish(rows.length?'salvo stopped serving':'no answer from salvo');break;}\n"
    "   await new Promise(res=>setTimeout(res,1000));\n"
    "  }\n"
    " }\n"
    "}\n"
    "poll();\n"
    "</script>\n</body>\n</html>\n";

char *dash_page(void)
{
    size_t n =
        strlen(page_head) + strlen(html_style_sheet) + strlen(page_css) + strlen(page_body) + strlen(page_script) + 1;
    char *p = malloc(n);
    if (!p) abort();
    strcpy(p, page_head);
    strcat(p, html_style_sheet);
    strcat(p, page_css);
    strcat(p, page_body);
    strcat(p, page_script);
    return p;
}
