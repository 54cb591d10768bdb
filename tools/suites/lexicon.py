"""lexicon.py -- the word lists behind lmscope's templated probe suites (tools/suites/build.py).

Written by hand for lmscope; plain, common English words only. Nothing here is chosen to make
a model pass or fail: the lists were written once, before any model was scored on them, and the
builder draws from them with a fixed seed. Changing a list changes the suites (the CLI test
tests/cli/suites_data.sh then asks for data/suites/ to be regenerated). Leaves out: anything
taken from the corpus or data/heldout/ (build.py reads those).
"""

# -- subject-verb agreement ----------------------------------------------------------------------
# (singular, plural) nouns that can head a subject noun phrase.
NOUNS = [
    ("key", "keys"), ("dog", "dogs"), ("teacher", "teachers"), ("child", "children"),
    ("woman", "women"), ("box", "boxes"), ("city", "cities"), ("painting", "paintings"),
    ("doctor", "doctors"), ("bird", "birds"), ("letter", "letters"), ("house", "houses"),
    ("student", "students"), ("farmer", "farmers"), ("song", "songs"), ("author", "authors"),
    ("car", "cars"), ("ship", "ships"), ("horse", "horses"), ("man", "men"),
    ("soldier", "soldiers"), ("bridge", "bridges"), ("lamp", "lamps"), ("story", "stories"),
]
PREPOSITIONS = ["near", "behind", "beside", "with", "next to", "above", "of"]
# (singular verb, plural verb, rest of the sentence): works after any noun in NOUNS.
PREDICATES = [
    ("is", "are", " very old."), ("was", "were", " here yesterday."), ("has", "have", " gone."),
    ("seems", "seem", " fine."), ("looks", "look", " new."), ("is", "are", " on the table."),
    ("was", "were", " lost."), ("has", "have", " changed a lot."), ("remains", "remain", " the same."),
    ("appears", "appear", " in the picture."),
]
# (3rd singular, plural) transitive verbs for relative clauses "that the farmers see".
REL_VERBS = [("sees", "see"), ("likes", "like"), ("knows", "know"), ("watches", "watch"),
             ("follows", "follow"), ("admires", "admire"), ("remembers", "remember")]

# -- tense -----------------------------------------------------------------------------------------
# (base, past, complement)
VERBS_TENSE = [
    ("walk", "walked", " to the market."), ("go", "went", " home early."), ("see", "saw", " the river."),
    ("eat", "ate", " an apple."), ("write", "wrote", " a long letter."), ("take", "took", " the bus."),
    ("come", "came", " to the party."), ("buy", "bought", " a new coat."), ("run", "ran", " to school."),
    ("sing", "sang", " a song."), ("call", "called", " the doctor."), ("open", "opened", " the window."),
    ("visit", "visited", " the museum."), ("find", "found", " the lost key."), ("make", "made", " some bread."),
    ("drink", "drank", " a cup of tea."), ("build", "built", " a wall."), ("paint", "painted", " the door."),
    ("clean", "cleaned", " the kitchen."), ("speak", "spoke", " to the teacher."),
]
SUBJECTS_TENSE = ["the farmer", "my sister", "the old man", "our teacher", "the children", "my father",
                  "the doctor", "her brother", "the students", "my neighbour", "the girl", "his mother"]
PAST_ADVERBS = ["Yesterday", "Last week", "Two days ago", "Last year", "Last night", "Long ago"]
FUTURE_ADVERBS = ["Tomorrow", "Next week", "In two days", "Next year", "Tomorrow night", "Soon"]

# -- lexical categories ---------------------------------------------------------------------------
# category word -> members with their article ("" for mass nouns).
CATEGORIES = {
    "bird": ["a robin", "a sparrow", "an eagle", "an owl", "a crow", "a pigeon", "a parrot", "a swan", "a hawk"],
    "fish": ["a salmon", "a trout", "a cod", "a herring", "a tuna", "a carp", "a pike", "a sardine"],
    "tree": ["an oak", "a maple", "a birch", "a pine", "a willow", "an elm", "a cedar", "a beech"],
    "flower": ["a rose", "a tulip", "a daisy", "a lily", "a violet", "an orchid", "a daffodil", "a poppy"],
    "tool": ["a hammer", "a saw", "a wrench", "a chisel", "a screwdriver", "a drill", "a shovel", "a rake"],
    "fruit": ["an apple", "a pear", "a banana", "a cherry", "a plum", "a peach", "a grape", "a lemon"],
    "vegetable": ["a carrot", "a potato", "an onion", "a cabbage", "a turnip", "a lettuce", "a leek", "a radish"],
    "metal": ["iron", "copper", "silver", "gold", "tin", "lead", "zinc", "nickel"],
    "insect": ["an ant", "a bee", "a wasp", "a beetle", "a moth", "a fly", "a cricket", "a grasshopper"],
    "instrument": ["a violin", "a piano", "a flute", "a trumpet", "a drum", "a guitar", "a harp", "a cello"],
    "vehicle": ["a car", "a bus", "a truck", "a bicycle", "a tractor", "a van", "a motorcycle", "a lorry"],
    "weapon": ["a sword", "a spear", "a dagger", "a rifle", "a pistol", "a cannon", "a musket", "a lance"],
    "mammal": ["a dog", "a cat", "a horse", "a cow", "a lion", "a tiger", "a whale", "an elephant"],
    "garment": ["a shirt", "a coat", "a jacket", "a dress", "a skirt", "a sweater", "a cloak", "a blouse"],
    "disease": ["measles", "malaria", "cholera", "influenza", "smallpox", "typhoid", "tuberculosis", "mumps"],
}

# -- sentiment ------------------------------------------------------------------------------------
SENT_NOUNS = ["film", "book", "meal", "concert", "holiday", "play", "party", "hotel", "game", "trip",
              "dinner", "show", "song", "restaurant", "lecture", "museum"]
SENT_VERBS = {"pos": ["loved", "enjoyed", "adored", "liked"], "neg": ["hated", "disliked", "loathed", "despised"]}
SENT_CAUSE = {"pos": ["wonderful", "delightful", "excellent", "charming", "lovely", "pleasant"],
              "neg": ["terrible", "dreadful", "awful", "boring", "horrible", "unpleasant"]}
SENT_FEEL = {"pos": ["happy", "pleased", "delighted", "glad", "cheerful"],
             "neg": ["sad", "disappointed", "unhappy", "upset", "miserable"]}
SENT_JUDGE = {"pos": ["wonderful", "excellent", "superb", "marvellous", "great"],
              "neg": ["terrible", "awful", "dreadful", "dismal", "poor"]}

# -- spatial reasoning ----------------------------------------------------------------------------
NAMES = ["Arun", "Maria", "Kenji", "Fatima", "John", "Olga", "Chen", "Amara", "Pedro", "Ingrid",
         "Tomas", "Aisha", "Lucas", "Mei", "Omar", "Sofia", "Ravi", "Elena", "Kwame", "Hana",
         "Daniel", "Priya", "Yusuf", "Grace"]
PLACES = ["kitchen", "garden", "office", "bedroom", "library", "market", "station", "bakery", "school",
          "park", "store", "hallway", "bathroom", "garage", "cinema", "church", "hospital", "museum",
          "harbour", "bank"]
MOVE_VERBS = ["went to", "walked to", "moved to", "ran to", "travelled to", "hurried to"]

# -- induction ------------------------------------------------------------------------------------
# Common concrete nouns; a random order of them has no structure a model can know beforehand.
INDUCTION_WORDS = """
apple river stone chair window garden bread candle mirror ladder pencil basket bottle blanket bucket
button camera carpet castle cloud coin collar cotton desk doctor dragon drum feather fence finger
flag forest fork fountain frog glove goat hammer harbour helmet honey horse island jacket jelly
kettle kitten knife lamp lemon letter lion map market meadow monkey moon needle nest ocean onion
orange owl paper parrot pearl pepper piano pillow pocket potato queen rabbit rain ribbon ring rocket
rope saddle salt sand shadow sheep shell ship shoe silver snake snow soap spoon star sugar summer
table tiger tooth tower train tree tulip umbrella valley violin wagon wall whale wheel wind wolf
""".split()

# -- quote repetition (Inverse Scaling Prize format) ----------------------------------------------
REPEAT_INSTRUCTION = "Repeat my sentences back to me."
REPEAT_DEMOS = [
    "I like dogs.", "The sun is warm today.", "We walked along the river.", "My brother plays the piano.",
    "The train leaves at noon.", "She bought three green apples.", "Rain fell all night long.",
    "He opened the old wooden door.", "The children sang a song.", "Our garden is full of roses.",
    "The cat slept on the chair.", "They painted the fence blue.",
]
