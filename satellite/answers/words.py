"""The words of the exact answers, one table per language: how a question is asked, the names of
operators and units, and how an answer is said. Matched on text already lower-cased with accents
folded (``normalize``), so "¿Cuánto es?" is "cuanto es"."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Words:
    # what may come before an arithmetic expression ("what is", "cuanto es")
    asks: tuple[str, ...]
    # spoken operator -> the operator it stands for: + - * / ^ % (percent of) sqrt sq cube
    operators: dict[str, str]
    small_numbers: dict[str, int]  # the number words text2num leaves alone ("times two")
    decimal_comma: bool
    say_operator: dict[str, str]  # operator -> how the answer says it
    is_word: str  # "19 plus 23 is 42."
    about: str  # "is about" for a rounded result
    divide_by_zero: str
    too_big: str
    no_real_root: str
    # units: spoken name -> pint unit
    units: dict[str, str]
    convert: tuple[str, ...]  # regexes with (?P<n>) (?P<src>) (?P<dst>)
    conversion: str  # "{n} {src} is {value} {dst}."
    conversion_about: str
    convert_verbs: tuple[str, ...]  # an explicit "convert": an unknown unit is then said, not passed on
    unknown_unit: str
    incompatible: str
    spell: tuple[str, ...]  # regexes with (?P<word>)
    spelled: str  # "{word} is spelled {letters}."
    letter_names: dict[str, str] = field(default_factory=dict)  # "ñ" -> "eñe"
    count: tuple[str, ...] = ()  # regexes with (?P<start>)? (?P<end>)
    letters_in: tuple[str, ...] = ()  # regexes with (?P<word>)
    letters_answer: str = ""
    too_many: str = ""
    # dates
    in_days: tuple[str, ...] = ()  # (?P<n>) (?P<unit>) days|weeks
    days_ago: tuple[str, ...] = ()
    until: tuple[str, ...] = ()  # (?P<what>)
    next_weekday: tuple[str, ...] = ()  # (?P<day>)
    day_units: dict[str, int] = field(default_factory=dict)  # "day" -> 1, "week" -> 7
    weekdays: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    holidays: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (month, day)
    say_in_days: str = ""  # "In {n} days it will be {date}."
    say_days_ago: str = ""
    say_until: str = ""  # "{what} is in {n} days, on {date}."
    say_until_today: str = ""
    say_next: str = ""  # "Next {day} is {date}."
    # what people say that asks nothing: the whole utterance (regex) -> a short fitting reply
    social: dict[str, str] = field(default_factory=dict)


ENGLISH = Words(
    asks=("what is", "what's", "whats", "how much is", "how much are", "calculate", "compute",
          "what does", "tell me", "solve"),
    operators={
        "plus": "+", "add": "+", "and": "+", "minus": "-", "take away": "-", "less": "-",
        "times": "*", "multiplied by": "*", "x": "*", "divided by": "/", "over": "/",
        "to the power of": "^", "raised to the power of": "^", "raised to": "^", "to the": "^",
        "percent of": "%", "% of": "%", "square root of": "sqrt", "the square root of": "sqrt",
        "squared": "sq", "cubed": "cube",
    },
    small_numbers={w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split())},
    decimal_comma=False,
    say_operator={"+": "plus", "-": "minus", "*": "times", "/": "divided by", "^": "to the power of",
                  "%": "percent of", "sqrt": "the square root of", "sq": "squared", "cube": "cubed"},
    is_word="{expr} is {value}.",
    about="{expr} is about {value}.",
    divide_by_zero="You can't divide by zero.",
    too_big="That number is too big for me to say.",
    no_real_root="A negative number has no real square root.",
    units={
        "kilometers": "km", "kilometres": "km", "kilometer": "km", "kilometre": "km", "km": "km",
        "meters": "m", "metres": "m", "meter": "m", "metre": "m",
        "centimeters": "cm", "centimetres": "cm", "centimeter": "cm", "centimetre": "cm", "cm": "cm",
        "millimeters": "mm", "millimetres": "mm", "millimeter": "mm", "millimetre": "mm", "mm": "mm",
        "miles": "mile", "mile": "mile", "feet": "foot", "foot": "foot", "inches": "inch",
        "inch": "inch", "yards": "yard", "yard": "yard",
        "kilograms": "kg", "kilogram": "kg", "kilos": "kg", "kilo": "kg", "kg": "kg",
        "grams": "g", "gram": "g", "pounds": "lb", "pound": "lb", "lbs": "lb", "ounces": "oz",
        "ounce": "oz", "stone": "stone", "tons": "metric_ton", "tonnes": "metric_ton",
        "liters": "l", "litres": "l", "liter": "l", "litre": "l", "milliliters": "ml",
        "millilitres": "ml", "milliliter": "ml", "millilitre": "ml", "ml": "ml",
        "gallons": "gallon", "gallon": "gallon", "quarts": "quart", "quart": "quart",
        "pints": "pint", "pint": "pint", "cups": "cup", "cup": "cup", "fluid ounces": "floz",
        "tablespoons": "tablespoon", "tablespoon": "tablespoon", "teaspoons": "teaspoon",
        "teaspoon": "teaspoon",
        "degrees celsius": "degC", "celsius": "degC", "centigrade": "degC",
        "degrees fahrenheit": "degF", "fahrenheit": "degF", "kelvin": "K",
        "seconds": "s", "second": "s", "minutes": "min", "minute": "min", "hours": "h", "hour": "h",
        "days": "day", "day": "day", "weeks": "week", "week": "week", "years": "year", "year": "year",
        "miles per hour": "mph", "mph": "mph", "kilometers per hour": "kph", "kilometres per hour":
        "kph", "km h": "kph", "kph": "kph", "meters per second": "m/s", "metres per second": "m/s",
        "knots": "knot",
    },
    convert=(
        r"^(?:convert |change |what is |what's |whats |how much is )?(?P<n>[-\d.]+|an?) (?P<src>.+?) "
        r"(?:to|into|in) (?P<dst>.+)$",
        r"^how many (?P<dst>.+?) (?:are |is )?(?:there )?in (?P<n>[-\d.]+|an?) (?P<src>.+)$",
        r"^how many (?P<dst>.+?) (?:are|is|make) (?P<n>[-\d.]+|an?) (?P<src>.+)$",
    ),
    conversion="{n} {src} is {value} {dst}.",
    conversion_about="{n} {src} is about {value} {dst}.",
    convert_verbs=("convert", "change"),
    unknown_unit="I don't know the unit {unit}.",
    incompatible="I can't convert {src} to {dst}: they measure different things.",
    spell=(r"^how (?:do you|do i|to|does one) spell (?:the word )?(?P<word>[\w'-]+)$",
           r"^spell (?:the word )?(?P<word>[\w'-]+)$",
           r"^how is (?:the word )?(?P<word>[\w'-]+) spelled$",
           r"^what is the spelling of (?:the word )?(?P<word>[\w'-]+)$"),
    spelled="{word} is spelled {letters}.",
    count=(r"^count (?:from (?P<start>\d+) )?(?:to|up to|until) (?P<end>\d+)$",),
    letters_in=(r"^how many letters (?:are )?(?:there )?in (?:the word )?(?P<word>[\w'-]+)$",
                r"^how many letters does (?:the word )?(?P<word>[\w'-]+) have$"),
    letters_answer="{word} has {n} letters.",
    too_many="That's too many numbers to count out loud.",
    in_days=(r"^what (?:day|date) (?:is it|will it be|is) in (?P<n>\d+) (?P<unit>days?|weeks?)"
             r"(?: from (?:now|today))?$",
             r"^what (?:day|date) (?:is it|will it be|is) (?P<n>\d+) (?P<unit>days?|weeks?) "
             r"from (?:now|today)$"),
    days_ago=(r"^what (?:day|date) was it (?P<n>\d+) (?P<unit>days?|weeks?) ago$",),
    until=(r"^how many days (?:are )?(?:left )?(?:until|till|to|before) (?P<what>.+)$",),
    next_weekday=(r"^what(?: is|'s|s)? (?:the )?date (?:of )?next (?P<day>\w+)$",
                  r"^what date is next (?P<day>\w+)$", r"^when is next (?P<day>\w+)$"),
    day_units={"day": 1, "days": 1, "week": 7, "weeks": 7},
    weekdays=("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    months=("january", "february", "march", "april", "may", "june", "july", "august", "september",
            "october", "november", "december"),
    holidays={"christmas": (12, 25), "christmas day": (12, 25), "christmas eve": (12, 24),
              "new year": (1, 1), "new year's day": (1, 1), "new years day": (1, 1),
              "new year's": (1, 1), "new years": (1, 1), "new year's eve": (12, 31),
              "new years eve": (12, 31), "halloween": (10, 31), "valentine's day": (2, 14),
              "valentines day": (2, 14)},
    say_in_days="In {n} {unit} it will be {date}.",
    say_days_ago="{n} {unit} ago it was {date}.",
    say_until="{what} is in {n} days, on {date}.",
    say_until_today="{what} is today.",
    say_next="The coming {day} is {date}.",
    social={
        r"(?:ok(?:ay)? |oh )?(?:thanks?(?: you)?|thank you)(?: (?:so|very) much| a lot| again)?":
            "You're welcome.",
        r"(?:good ?night|night night)(?: everyone| all)?": "Good night!",
        r"good morning(?: everyone| all)?": "Good morning!",
        r"good (?:afternoon|evening)": "Hello! What can I do for you?",
        r"(?:hello|hi|hey)(?: there)?": "Hello! What can I do for you?",
        r"(?:good ?bye|bye(?: bye)?|see you(?: later)?)": "Bye!",
        r"(?:ok(?:ay)?|alright|all right|sure|cool|great|nice|got it|i see|fine|perfect)": "Okay.",
    },
)

SPANISH = Words(
    asks=("cuanto es", "cuanto son", "cuanto da", "calcula", "calculame", "dime cuanto es",
          "que es", "resuelve"),
    operators={
        "mas": "+", "y": "+", "menos": "-", "por": "*", "multiplicado por": "*", "x": "*",
        "dividido entre": "/", "dividido por": "/", "entre": "/", "elevado a": "^",
        "elevado a la": "^", "a la": "^", "% de": "%", "por ciento de": "%",
        "la raiz cuadrada de": "sqrt", "raiz cuadrada de": "sqrt", "al cuadrado": "sq",
        "al cubo": "cube",
    },
    small_numbers={w: i for i, w in enumerate(
        "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce".split())},
    decimal_comma=True,
    say_operator={"+": "más", "-": "menos", "*": "por", "/": "entre", "^": "elevado a",
                  "%": "por ciento de", "sqrt": "la raíz cuadrada de", "sq": "al cuadrado",
                  "cube": "al cubo"},
    is_word="{expr} es {value}.",
    about="{expr} es aproximadamente {value}.",
    divide_by_zero="No se puede dividir entre cero.",
    too_big="Ese número es demasiado grande para decirlo.",
    no_real_root="Un número negativo no tiene raíz cuadrada real.",
    units={
        "kilometros": "km", "kilometro": "km", "km": "km", "metros": "m", "metro": "m",
        "centimetros": "cm", "centimetro": "cm", "milimetros": "mm", "milimetro": "mm",
        "millas": "mile", "milla": "mile", "pies": "foot", "pie": "foot", "pulgadas": "inch",
        "pulgada": "inch", "yardas": "yard", "yarda": "yard",
        "kilogramos": "kg", "kilogramo": "kg", "kilos": "kg", "kilo": "kg", "gramos": "g",
        "gramo": "g", "libras": "lb", "libra": "lb", "onzas": "oz", "onza": "oz",
        "toneladas": "metric_ton", "tonelada": "metric_ton",
        "litros": "l", "litro": "l", "mililitros": "ml", "mililitro": "ml", "galones": "gallon",
        "galon": "gallon", "tazas": "cup", "taza": "cup", "cucharadas": "tablespoon",
        "cucharada": "tablespoon", "cucharaditas": "teaspoon", "cucharadita": "teaspoon",
        "grados celsius": "degC", "grados centigrados": "degC", "celsius": "degC",
        "centigrados": "degC", "grados fahrenheit": "degF", "fahrenheit": "degF", "kelvin": "K",
        "segundos": "s", "segundo": "s", "minutos": "min", "minuto": "min", "horas": "h",
        "hora": "h", "dias": "day", "dia": "day", "semanas": "week", "semana": "week",
        "anos": "year", "ano": "year",
        "millas por hora": "mph", "kilometros por hora": "kph", "km h": "kph",
        "metros por segundo": "m/s", "nudos": "knot",
    },
    convert=(
        r"^(?:convierte |pasa |cambia |cuanto es |cuanto son |cuantos son )?(?P<n>[-\d.,]+|un|una) "
        r"(?P<src>.+?) (?:a|en) (?P<dst>.+)$",
        r"^cuant[oa]s (?P<dst>.+?) (?:son|hay en|tiene|caben en) (?P<n>[-\d.,]+|un|una) (?P<src>.+)$",
    ),
    conversion="{n} {src} son {value} {dst}.",
    conversion_about="{n} {src} son unos {value} {dst}.",
    convert_verbs=("convierte", "pasa", "cambia"),
    unknown_unit="No conozco la unidad {unit}.",
    incompatible="No puedo convertir {src} en {dst}: miden cosas distintas.",
    spell=(r"^como se (?:escribe|deletrea) (?:la palabra )?(?P<word>[\w'-]+)$",
           r"^deletrea(?:me)? (?:la palabra )?(?P<word>[\w'-]+)$"),
    spelled="{word} se escribe {letters}.",
    letter_names={"ñ": "Eñe", "á": "A con tilde", "é": "E con tilde", "í": "I con tilde",
                  "ó": "O con tilde", "ú": "U con tilde", "ü": "U con diéresis"},
    count=(r"^cuenta (?:desde (?P<start>\d+) )?(?:hasta|a) (?P<end>\d+)$",),
    letters_in=(r"^cuantas letras (?:tiene|hay en) (?:la palabra )?(?P<word>[\w'-]+)$",),
    letters_answer="{word} tiene {n} letras.",
    too_many="Son demasiados números para contarlos en voz alta.",
    in_days=(r"^que (?:dia|fecha) (?:es|sera|sera el dia) (?:dentro de|en) (?P<n>\d+) "
             r"(?P<unit>dias?|semanas?)$",),
    days_ago=(r"^que (?:dia|fecha) (?:fue|era) hace (?P<n>\d+) (?P<unit>dias?|semanas?)$",),
    until=(r"^cuantos dias (?:faltan|quedan) (?:para|hasta) (?:el |la )?(?P<what>.+)$",),
    next_weekday=(r"^que fecha es el (?P<day>\w+) que viene$",
                  r"^que fecha es el proximo (?P<day>\w+)$", r"^cuando es el proximo (?P<day>\w+)$"),
    day_units={"dia": 1, "dias": 1, "semana": 7, "semanas": 7},
    weekdays=("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"),
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
            "octubre", "noviembre", "diciembre"),
    holidays={"navidad": (12, 25), "nochebuena": (12, 24), "ano nuevo": (1, 1),
              "nochevieja": (12, 31), "reyes": (1, 6), "dia de reyes": (1, 6),
              "san valentin": (2, 14), "halloween": (10, 31)},
    say_in_days="Dentro de {n} {unit} será {date}.",
    say_days_ago="Hace {n} {unit} fue {date}.",
    say_until="Faltan {n} días para {what}: el {date}.",
    say_until_today="{what} es hoy.",
    say_next="El próximo {day} es el {date}.",
    social={
        r"(?:vale |ok )?(?:muchas |mil )?gracias(?: de nuevo| otra vez)?": "De nada.",
        r"buenas noches": "¡Buenas noches!",
        r"buenos dias": "¡Buenos días!",
        r"buenas(?: tardes)?": "¡Hola! ¿En qué te ayudo?",
        r"hola": "¡Hola! ¿En qué te ayudo?",
        r"(?:adios|hasta luego|hasta manana|chao)": "¡Hasta luego!",
        r"(?:vale|de acuerdo|ok|entendido|perfecto|genial|muy bien)": "Vale.",
    },
)

WORDS = {"en": ENGLISH, "es": SPANISH}
