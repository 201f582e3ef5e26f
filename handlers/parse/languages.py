"""The words of the other languages a question may be asked in, as data: what each phrase means in the English the
rest of the parser reads. `translate` detects the language and rewrites the question with these tables.

A key is a phrase in lower case without accents (people type "tombe" for "tombé", "laeuft" for "läuft"), its words
separated by one space; French elisions are split off ("qu'est-ce" is "qu est-ce", "d'hier" is "d hier"). A value is
the English words it stands for, "" for a word that says nothing we need ("le", "est-ce que"). `numeric` phrases
mean one thing before a number and another elsewhere ("à 14h" is "at", "il y a 2 heures" is "ago", "il y a des
tunnels down" is "there"). `markers` (derived in `translate`) are the keys that are no English word: they tell the
language. Anything a table does not know in a question in that language is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS_EN = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, what `Question.language` says
    name: str
    words: Mapping[str, str]
    numeric: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # before a number, elsewhere
    elisions: tuple[str, ...] = ()  # "l'", "qu'": split off the word they are glued to
    clock24: bool = False  # a bare "à 9" is 09:00
    example: str = ""  # a question in this language that works, for the help page


def _days(names: tuple[str, ...], last: str = "", last_after: bool = True) -> dict[str, str]:
    """Weekday names, and "lundi dernier" / "letzten Montag" for the one before today."""
    table = dict(zip(names, _WEEKDAYS_EN, strict=True))
    if last:
        for name, english in zip(names, _WEEKDAYS_EN, strict=True):
            table[f"{name} {last}" if last_after else f"{last} {name}"] = f"last {english}"
    return table


def _months(names: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(names, _MONTHS_EN, strict=True))


FRENCH = Language(
    code="fr", name="French", clock24=True,
    elisions=("l'", "d'", "n'", "s'", "c'", "j'", "m'", "t'", "qu'", "jusqu'", "lorsqu'", "puisqu'"),
    example="pourquoi paris est tombé hier à 14h02",
    words=MappingProxyType({
        # asking
        "pourquoi": "why", "pq": "why", "pk": "why", "pourquoi est-ce que": "why", "la cause": "cause",
        "cause": "cause", "raison": "cause",
        "qu est-ce qui": "what", "qu est-ce que": "what", "quoi": "what", "que": "what", "qui": "who",
        "qu est-ce qui s est passe": "what happened", "que s est-il passe": "what happened",
        "il s est passe quoi": "what happened", "s est passe": "happened", "s est-il passe": "happened",
        "il se passe quoi": "what's going on", "qu est-ce qui se passe": "what's going on",
        "que se passe-t-il": "what's going on", "se passe": "going on", "quoi de neuf": "what's up",
        "qu est-ce qu il y a": "what's wrong", "qu est-ce qui ne va pas": "what's wrong",
        "quel": "which", "quels": "which", "quelle": "which", "quelles": "which",
        "combien de fois": "how many times", "combien de": "how many", "combien": "how many",
        "est-ce que": "", "est-ce": "", "est-il": "is", "sont-ils": "are", "y a-t-il": "are there",
        "a-t-il": "", "t-il": "", "comment va": "how is", "comment vont": "how are",
        # what happened to the tunnel
        "tombe": "dropped", "tombee": "dropped", "tombes": "dropped", "tombees": "dropped",
        "saute": "dropped", "a saute": "dropped", "plante": "dropped", "lache": "dropped", "decroche": "dropped",
        "est tombe": "dropped", "est tombee": "dropped", "sont tombes": "dropped", "sont tombees": "dropped",
        "s est coupe": "dropped", "s est deconnecte": "dropped", "deconnecte": "disconnected",
        "coupe": "down", "coupee": "down", "en panne": "down", "panne": "outage", "pannes": "outages",
        "hors ligne": "offline", "en ligne": "online", "injoignable": "unreachable", "joignable": "reachable",
        "coupure": "outage", "coupures": "outages", "deconnexion": "disconnect", "deconnexions": "disconnects",
        "flappe": "flapping", "flappent": "flapping", "oscille": "flapping", "instable": "flapping",
        "a flappe": "flapped", "marche": "working", "fonctionne": "working", "ca marche": "working",
        "remonte": "back up", "est remonte": "back up", "revenu": "back", "est revenu": "back",
        "souci": "problem", "soucis": "problems", "probleme": "problem", "problemes": "problems",
        "va bien": "ok", "tout va bien": "is everything ok", "ca va": "ok", "etat": "status", "statut": "status",
        "resume": "summary", "bilan": "summary", "recap": "summary", "rapport": "summary", "synthese": "summary",
        "historique": "history", "preuves": "evidence",
        # traffic over the tunnel ("le trafic passe-t-il par paris ?", "paris est up mais rien ne passe")
        "trafic": "traffic", "le trafic": "traffic", "du trafic": "traffic", "passe-t-il": "flowing",
        "passe": "flowing", "passent": "flowing", "circule": "flowing", "rien ne passe": "no traffic",
        "ne passe pas": "no traffic", "ne passe plus": "no traffic", "mais": "", "joindre": "reach",
        "joint": "reach", "atteindre": "reach", "debit": "throughput", "octets": "bytes", "paquets": "packets",
        "via": "over", "par": "over", "passe par": "flowing over", "passe-t-il par": "flowing over",
        "passent par": "flowing over", "trafic par": "traffic over", "ne passe pas par": "no traffic over",
        "ne passe plus par": "no traffic over", "rien ne passe par": "no traffic over",
        # who and what
        "tout": "everything", "tous": "all", "toutes": "all", "tous les": "all", "des tunnels": "any tunnels",
        "un tunnel": "any tunnel", "quelque chose": "anything", "liens": "links", "lien": "link",
        "il": "it", "elle": "it", "on": "", "nous": "we", "est": "is", "sont": "are", "etait": "was",
        "a": "", "ont": "", "ete": "been", "y": "", "encore": "still", "toujours": "still", "de nouveau": "again",
        "a nouveau": "again", "deja": "", "bien": "", "pas": "not", "ne": "", "n": "", "le": "", "la": "", "les": "",
        "l": "", "un": "", "une": "", "du": "", "des": "", "d": "", "au": "", "aux": "", "s": "", "se": "",
        "c": "", "ce": "", "cet": "", "cette": "", "ca": "", "sur": "on", "pour": "for", "avec": "with",
        "dans": "in", "en": "in", "vers": "to", "et": "and", "ou": "or", "stp": "please", "svp": "please",
        "merci": "thanks", "bonjour": "hi", "salut": "hi", "est-ce qu": "", "qu": "what", "j": "", "m": "",
        "me": "me", "moi": "me", "donne-moi": "give me", "montre-moi": "show me", "dis-moi": "tell me",
        "maintenant": "now", "actuellement": "now", "en ce moment": "now",
        # when
        "hier": "yesterday", "aujourd'hui": "today", "aujourd hui": "today", "aujourdhui": "today", "auj": "today",
        "avant-hier": "day before yesterday", "demain": "tomorrow",
        "ce matin": "this morning", "cet apres-midi": "this afternoon", "cet aprem": "this afternoon",
        "ce soir": "this evening", "cette nuit": "last night", "la nuit derniere": "last night",
        "hier soir": "yesterday evening", "hier matin": "yesterday morning", "hier apres-midi": "yesterday afternoon",
        "matin": "morning", "apres-midi": "afternoon", "aprem": "afternoon", "soir": "evening", "nuit": "night",
        "du matin": "am", "de l apres-midi": "pm", "du soir": "pm", "midi": "noon", "minuit": "midnight",
        "week-end": "weekend", "weekend": "weekend", "ce week-end": "over the weekend",
        "pendant le week-end": "over the weekend", "le week-end dernier": "last weekend",
        "week-end dernier": "last weekend", "cette semaine": "this week", "la semaine derniere": "last week",
        "semaine derniere": "last week", "dernier": "last", "derniere": "last", "derniers": "last",
        "dernieres": "last", "pendant": "over", "depuis": "since", "entre": "between", "avant": "before",
        "apres": "after", "jusqu": "until", "jusqu a": "until", "heure": "hours", "heures": "hours",
        "minute": "minutes", "minutes": "minutes", "jour": "days", "jours": "days", "semaines": "weeks",
        "secondes": "seconds", "heure locale": "local time", "heure de": "time in", "mon heure": "my time",
        **_days(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"), "dernier"),
        **_months(("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
                   "novembre", "decembre")),
    }),
    numeric=MappingProxyType({"a": ("at", ""), "vers": ("around", "to"), "il y a": ("ago", "there are"),
                              "de": ("from", ""), "y a": ("ago", "there are")}),
)

GERMAN = Language(
    code="de", name="German", clock24=True, example="warum ist paris gestern um 14:02 ausgefallen",
    words=MappingProxyType({
        "warum": "why", "wieso": "why", "weshalb": "why", "grund": "cause", "ursache": "cause",
        "was": "what", "wer": "who", "welche": "which", "welcher": "which", "welches": "which", "wie": "how",
        "wie oft": "how often", "wie viele": "how many", "wie viel": "how many", "wie geht es": "how is",
        "was ist mit": "what's up with", "los": "", "was ist los mit": "what's up with", "was ist los": "what's up",
        "was ist passiert": "what happened", "passiert": "happened", "ist": "is", "sind": "are", "war": "was",
        "waren": "were", "wurde": "", "wurden": "", "hat": "", "haben": "", "gibt es": "are there",
        "gab es": "was there",
        "ausgefallen": "down", "abgesturzt": "down", "abgestuerzt": "down", "weg": "down", "tot": "dead",
        "unten": "down", "abgebrochen": "dropped", "getrennt": "dropped", "unterbrochen": "dropped",
        "ausfall": "outage", "ausfalle": "outages", "ausfaelle": "outages", "abbruche": "drops",
        "abbrueche": "drops", "flappt": "flapping", "flattert": "flapping", "instabil": "flapping",
        "geflappt": "flapped", "lauft": "working", "laeuft": "working", "funktioniert": "working",
        "erreichbar": "reachable", "gestort": "broken", "gestoert": "broken", "kaputt": "broken",
        "probleme": "problems", "problem": "problem", "storung": "outage", "stoerung": "outage",
        "storungen": "outages", "stoerungen": "outages", "alles": "everything", "alle": "all",
        "irgendwas": "anything", "etwas": "anything", "irgendein": "any", "irgendwelche": "any",
        "status": "status", "zustand": "status", "zusammenfassung": "summary", "ubersicht": "summary",
        "uebersicht": "summary", "bericht": "summary", "verlauf": "history", "beweise": "evidence",
        "der": "", "die": "", "das": "", "den": "", "dem": "", "des": "", "ein": "", "eine": "", "einen": "",
        "mit": "with", "fur": "for", "fuer": "for", "zu": "to", "bei": "on", "auf": "on", "im": "in", "in": "in",
        "noch": "still", "immer noch": "still", "wieder": "again", "schon": "", "gerade": "now", "jetzt": "now",
        "aktuell": "now", "momentan": "now", "bitte": "please", "danke": "thanks", "hallo": "hi", "und": "and",
        "oder": "or", "es": "", "er": "it", "nicht": "not", "mal": "", "denn": "", "eigentlich": "", "du": "you",
        "mir": "me", "mich": "me", "ich": "i", "wir": "we", "uns": "us",
        "gestern": "yesterday", "heute": "today", "vorgestern": "day before yesterday", "morgen": "tomorrow",
        "heute morgen": "this morning", "heute fruh": "this morning", "heute frueh": "this morning",
        "heute vormittag": "this morning", "heute nachmittag": "this afternoon", "heute abend": "this evening",
        "gestern abend": "yesterday evening", "gestern morgen": "yesterday morning",
        "gestern nachmittag": "yesterday afternoon", "letzte nacht": "last night", "heute nacht": "last night",
        "morgens": "am", "vormittags": "am", "nachmittags": "pm", "abends": "pm", "mittag": "noon",
        "mitternacht": "midnight", "wochenende": "weekend", "am wochenende": "over the weekend",
        "letztes wochenende": "last weekend", "diese woche": "this week", "letzte woche": "last week",
        "letzten": "last", "letzte": "last", "letzter": "last", "seit": "since", "zwischen": "between",
        "bis": "until", "stunde": "hours", "stunden": "hours", "minute": "minutes", "minuten": "minutes",
        "tag": "days", "tage": "days", "tagen": "days", "wochen": "weeks", "sekunden": "seconds",
        "ortszeit": "local time", "meiner zeit": "my time", "uhr": "uhr",
        **_days(("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"), "letzten",
                last_after=False),
        **_months(("januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober",
                   "november", "dezember")),
        "maerz": "mar", "am": "on",
        # traffic over the tunnel ("fließt Traffic über paris?", "paris ist up aber nichts kommt durch")
        "verkehr": "traffic", "datenverkehr": "traffic", "fliesst": "flowing", "uber": "over", "ueber": "over",
        "aber": "", "nichts kommt durch": "no traffic", "kommt nichts durch": "no traffic",
        "kommt nichts an": "no traffic", "geht nichts durch": "no traffic", "kein traffic": "no traffic",
        "kein verkehr": "no traffic", "durch": "through", "erreichen": "reach", "erreiche": "reach",
        "durchsatz": "throughput", "pakete": "packets",
    }),
    numeric=MappingProxyType({"um": ("at", ""), "gegen": ("around", ""), "vor": ("ago", "before"),
                              "nach": ("after", "to"), "von": ("from", "of"), "ab": ("since", "")}),
)

SPANISH = Language(
    code="es", name="Spanish", example="¿por qué se cayó paris ayer a las 14:02?",
    words=MappingProxyType({
        "por que": "why", "porque": "why", "porqu": "why", "causa": "cause", "razon": "cause", "motivo": "cause",
        "que": "what", "cual": "which", "cuales": "which", "quien": "who", "como": "how", "como esta": "how is",
        "como estan": "how are", "cuantas veces": "how many times", "cuantos": "how many", "cuantas": "how many",
        "que paso": "what happened", "que ha pasado": "what happened", "paso": "happened", "pasado": "happened",
        "que pasa con": "what's up with", "que pasa": "what's up", "que le pasa a": "what's wrong with",
        "pasa": "going on", "se cayo": "dropped", "cayo": "dropped", "se cayeron": "dropped", "cayeron": "dropped",
        "se callo": "dropped", "se ha caido": "dropped", "fallo": "failed", "se desconecto": "dropped",
        "desconectado": "disconnected", "caido": "down", "caida": "down", "caidos": "down", "caidas": "outages",
        "esta caido": "is down", "abajo": "down", "arriba": "up", "levantado": "up", "activo": "up",
        "funcionando": "working", "funciona": "working", "flapeando": "flapping", "inestable": "flapping",
        "intermitente": "flapping", "problemas": "problems", "problema": "problem", "cortes": "outages",
        "corte": "outage", "bien": "ok", "todo bien": "everything ok", "todo": "everything", "todos": "all",
        "algun": "any", "alguno": "any", "alguna": "any", "algo": "anything", "hay": "there", "sigue": "still",
        "esta": "is", "estan": "are", "es": "is", "fue": "was", "ha": "", "han": "", "estado": "status",
        "resumen": "summary", "informe": "summary", "reporte": "summary", "historial": "history",
        "evidencias": "evidence", "tunel": "tunnel", "tuneles": "tunnels", "el": "", "la": "", "los": "",
        "las": "", "un": "", "una": "", "del": "", "al": "", "lo": "", "le": "", "se": "", "con": "with",
        "en": "in", "para": "for", "y": "and", "o": "or", "por favor": "please", "gracias": "thanks",
        "hola": "hi", "ahora": "now", "ahorita": "now", "ahora mismo": "now", "otra vez": "again",
        "de nuevo": "again", "todavia": "still", "aun": "still", "no": "not",
        "ayer": "yesterday", "hoy": "today", "anteayer": "day before yesterday", "antier": "day before yesterday",
        "manana": "tomorrow", "esta manana": "this morning", "esta tarde": "this afternoon",
        "esta noche": "tonight", "anoche": "last night", "ayer por la tarde": "yesterday afternoon",
        "ayer por la manana": "yesterday morning", "ayer por la noche": "yesterday evening",
        "de la manana": "am", "de la tarde": "pm", "de la noche": "pm", "mediodia": "noon",
        "medianoche": "midnight", "fin de semana": "weekend", "el fin de semana pasado": "last weekend",
        "fin de semana pasado": "last weekend", "esta semana": "this week", "la semana pasada": "last week",
        "semana pasada": "last week", "ultima": "last", "ultimas": "last", "ultimo": "last", "ultimos": "last",
        "desde": "since", "entre": "between", "hasta": "until", "antes de": "before", "despues de": "after",
        "hora": "hours", "horas": "hours", "minutos": "minutes", "minuto": "minutes", "dias": "days",
        "dia": "days", "semanas": "weeks", "segundos": "seconds", "hora local": "local time",
        "hora de": "time in", "mi hora": "my time",
        **_days(("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")),
        **{f"{day} pasado": f"last {english}" for day, english in zip(
            ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"), _WEEKDAYS_EN, strict=True)},
        **_months(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
                   "noviembre", "diciembre")),
        # traffic over the tunnel ("¿pasa tráfico por paris?", "paris está up pero no pasa nada")
        "trafico": "traffic", "el trafico": "traffic", "fluye": "flowing", "no pasa nada": "no traffic",
        "pasa trafico": "traffic flowing", "por": "over", "pero": "", "alcanzar": "reach", "llegar a": "reach",
        "llegamos a": "reach", "paquetes": "packets", "via": "over",
    }),
    numeric=MappingProxyType({"a las": ("at", ""), "a la": ("at", ""), "a": ("at", ""), "hace": ("ago", ""),
                              "de": ("from", ""), "sobre las": ("around", "")}),
)

LANGUAGES: tuple[Language, ...] = (FRENCH, GERMAN, SPANISH)

# Words that say a question is in a language we do not read: refused with an English example, never misread.
UNSUPPORTED_MARKERS = MappingProxyType({
    "Italian": frozenset({"perche", "caduto", "caduta", "ieri", "oggi", "alle", "stato", "successo", "cosa",
                          "quali", "sono", "della", "dello", "stamattina", "stasera", "settimana", "adesso",
                          "il", "lo", "gli", "e"}),
    "Portuguese": frozenset({"caiu", "ontem", "hoje", "agora", "quedas", "semana", "aconteceu", "o", "os", "esta",
                             "estao", "voce", "nao", "tunel", "tuneis", "porque", "por", "que"}),
    "Dutch": frozenset({"waarom", "gisteren", "vandaag", "viel", "uit", "om", "wat", "welke", "zijn", "het", "een",
                        "gebeurd", "storing", "nu", "vanochtend", "weg"}),
})

# Time words of languages we do not read, refused in an English question rather than skipped ("paris drop ieri").
OTHER_TIME_WORDS = frozenset({"ieri", "oggi", "stamattina", "stasera", "ontem", "hoje", "gisteren", "vandaag",
                              "vanochtend", "vannacht", "igår", "idag", "wczoraj", "dzisiaj"})

# Japanese: the question is segmented by these words (longest first) once its times are rewritten (`translate`).
JAPANESE = Language(
    code="ja", name="Japanese", clock24=True, example="parisはなぜ昨日14時02分に落ちたの？",
    words=MappingProxyType({
        "なぜ": "why", "何故": "why", "どうして": "why", "なんで": "why", "理由": "cause", "原因": "cause",
        "落ちた": "dropped", "落ちたの": "dropped", "落ちました": "dropped", "切れた": "dropped",
        "切れました": "dropped", "切断された": "dropped", "切断しました": "dropped", "切断": "dropped",
        "ダウンした": "dropped", "落ちる": "drop", "落ちてる": "down", "落ちている": "down",
        "落ちています": "down", "落ちてます": "down", "切れてる": "down", "切れている": "down",
        "ダウンしてる": "down", "ダウンしている": "down", "ダウン中": "down", "ダウン": "down", "停止中": "down",
        "不通": "down", "障害": "outage", "問題": "problems", "繋がってる": "up", "つながってる": "up",
        "繋がっている": "up", "つながっている": "up", "接続中": "up", "動いてる": "up", "動いている": "up",
        "稼働中": "up", "正常": "ok", "大丈夫": "ok", "生きてる": "alive", "復旧した": "recovered",
        "復旧": "recovered", "フラップしてる": "flapping", "フラップしている": "flapping", "フラップ中": "flapping",
        "フラッピング": "flapping", "フラップ": "flapping", "不安定": "flapping", "フラップした": "flapped",
        "状態": "status", "ステータス": "status", "状況": "status", "確認": "status", "サマリー": "summary",
        "サマリ": "summary", "まとめ": "summary", "要約": "summary", "レポート": "summary", "概要": "summary",
        "履歴": "history", "何回": "how many times", "回数": "how many times", "何度": "how many times",
        "何があった": "what happened", "何が起きた": "what happened", "何が起こった": "what happened",
        "あった": "happened", "起きた": "happened", "起こった": "happened", "発生した": "happened",
        "何が": "anything", "なにが": "anything", "何か": "anything", "なにか": "anything", "どの": "which",
        "どれ": "which", "どれが": "which", "何": "what", "全": "all", "全部": "all", "すべて": "all", "全て": "all",
        "全体": "all", "トンネル": "tunnel", "接続": "connection", "昨日": "yesterday", "きのう": "yesterday",
        "今日": "today", "きょう": "today", "一昨日": "day before yesterday", "おととい": "day before yesterday",
        "今朝": "this morning", "けさ": "this morning", "今夜": "tonight", "今晩": "tonight", "昨夜": "last night",
        "昨晩": "last night", "ゆうべ": "last night", "午前中": "morning", "午後": "afternoon", "夕方": "evening",
        "夜": "night", "深夜": "night", "朝": "morning", "先週": "last week", "今週": "this week",
        "先週末": "last weekend", "週末": "weekend", "今": "now", "いま": "now", "現在": "now", "只今": "now",
        "さっき": "last hour", "先ほど": "last hour", "現地時間": "local time", "時間": "time", "日本": "japan",
        "まだ": "still", "また": "again", "もう": "", "と": "and", "や": "and",
        "トラフィック": "traffic", "通信": "traffic", "流れている": "flowing", "流れてる": "flowing",
        "流れています": "flowing", "流れて": "flowing", "通らない": "no traffic", "通ってない": "no traffic",
        "疎通できない": "no traffic", "疎通": "traffic", "届かない": "no traffic", "経由": "over",
        "パリ": "paris", "リヨン": "lyon", "ニース": "nice", "ベルリン": "berlin", "ミュンヘン": "munich",
        "ハンブルク": "hamburg", "東京": "tokyo", "大阪": "osaka", "ロンドン": "london",
        "ニューヨーク": "new york", "シンガポール": "singapore",
        "ください": "please", "下さい": "please", "お願いします": "please", "お願い": "please", "教えて": "tell me",
        "見せて": "show me", "いる": "", "いた": "", "してる": "", "している": "", "した": "", "する": "",
        "しました": "", "です": "", "ます": "", "でした": "", "ました": "", "ですか": "", "ますか": "", "かな": "",
        "だ": "", "だった": "", "の間": "", "間": "", "って": "", "けど": "",
        **{f"{kanji}曜日": english for kanji, english in zip("月火水木金土日", _WEEKDAYS_EN, strict=True)},
        **{f"{kanji}曜": english for kanji, english in zip("月火水木金土日", _WEEKDAYS_EN, strict=True)},
    }),
)
# Particles and punctuation that carry nothing we need once the words around them are read.
JAPANESE_PARTICLES = frozenset("はがのにをでもかよねなへ、。・「」？！?!~〜 ")
# Times written the Japanese way, rewritten before segmenting: (pattern, English). Groups are numbers.
JAPANESE_TIMES: tuple[tuple[str, str], ...] = (
    (r"午後\s*(\d{1,2})時(\d{1,2})分", r" \1:\2pm "), (r"午後\s*(\d{1,2})時半", r" \1:30pm "),
    (r"午後\s*(\d{1,2})時", r" \1pm "), (r"午前\s*(\d{1,2})時(\d{1,2})分", r" \1:\2am "),
    (r"午前\s*(\d{1,2})時半", r" \1:30am "), (r"午前\s*(\d{1,2})時", r" \1am "),
    (r"(\d+)\s*時間前", r" \1 hours ago "), (r"(\d+)\s*分前", r" \1 minutes ago "),
    (r"(\d+)\s*日前", r" \1 days ago "), (r"(?:過去|直近|ここ)\s*(\d+)\s*時間", r" last \1 hours "),
    (r"(?:過去|直近|ここ)\s*(\d+)\s*分", r" last \1 minutes "), (r"(?:過去|直近|ここ)\s*(\d+)\s*日", r" last \1 days "),
    (r"(\d+)\s*時間", r" \1 hours "), (r"(\d{1,2})時(\d{1,2})分", r" \1:\2 "), (r"(\d{1,2})時半", r" \1:30 "),
    (r"(\d{1,2})時", r" \1:00 "),
    (r"(\d+)\s*分間", r" \1 minutes "),
)
_TIME = r"(\d{1,2}(?::\d{2})?(?:am|pm|h)?)"
# Then the words around those times, which Japanese puts after them: "13時から15時" is "from 13h to 15h".
JAPANESE_TIME_WORDS: tuple[tuple[str, str], ...] = (
    (_TIME + r"\s*(?:から|〜|~|－|-)\s*" + _TIME + r"\s*(?:まで|の間)?", r" from \1 to \2 "),
    (_TIME + r"\s*(?:過ぎ|すぎ)", r" after \1 "), (_TIME + r"\s*(?:ごろ|頃|くらい|ぐらい)", r" around \1 "),
    (_TIME + r"\s*(?:以降|から)", r" since \1 "), (_TIME + r"\s*(?:まで|以前|前)", r" before \1 "),
)
# "昨日落ちたトンネルは？" ("the tunnels that dropped yesterday?"): a question ending on tunnels a clause describes asks
# which ones; "parisのトンネルは？" (paris' tunnel) does not.
JAPANESE_QUESTIONS: tuple[tuple[str, str], ...] = ((r"(?<![のa-z0-9])トンネルは\s*[？?]*\s*$", " どのトンネル "),)
JAPANESE_DATE = r"(\d{1,2})月(\d{1,2})日"
MONTHS_EN = _MONTHS_EN
